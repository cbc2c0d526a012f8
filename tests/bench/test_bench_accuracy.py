"""The accuracy benchmark runs end to end on a tiny dataset directory shaped like the real one."""

import json

from bench import accuracy
from bench.tasks import TASKS
from tests.factories import write_labelled_dir


def test_accuracy_benchmark_writes_the_table(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_HOME", str(tmp_path / "wh"))  # caches stay in the test's own folder
    data = tmp_path / "data"
    write_labelled_dir(data / "airline_tweets")
    out = tmp_path / "results"
    result = accuracy.main(["--dataset", "airline_tweets", "--quick", "--data-dir", str(data), "--out", str(out)])
    (row,) = result["tasks"]
    assert row["task"] == "airline_tweets" and row["lstm"]["n"] == 60
    for system in ("lstm", "tfidf_lr", "vader"):
        assert 0 <= row[system]["accuracy"] <= 1 and 0 <= row[system]["macro_f1"] <= 1
    assert row["tfidf_lr"]["accuracy"] >= 0.9  # the cue words are easy for a linear model
    assert row["device"] == "cpu" and row["train_seconds"] > 0 and row["tokens_per_s"] > 0
    saved = json.loads((out / "accuracy.json").read_text())
    assert saved["tasks"][0]["targets"] == TASKS["airline_tweets"].targets
    table = (out / "accuracy.md").read_text()
    assert "| airline_tweets (test) | accuracy |" in table and "macro_f1" in table


def test_every_task_names_targets_for_its_metrics():
    for task in TASKS.values():
        assert set(task.metrics) == set(task.targets), task.name
        assert task.judge not in task.train and task.select != task.judge, task.name


def test_general_group_judges_one_model_on_every_split_beside_its_peers(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tests.factories import labelled_rows
    from tests.model.test_general import write_general_data

    monkeypatch.setenv("SENTIMENT_HOME", str(tmp_path / "wh"))  # the mix and model caches stay in tmp_path
    data = write_general_data(tmp_path / "data")
    tweets = labelled_rows(40, 31)  # the multilingual split, judged one language at a time
    (data / "umsab_multilingual").mkdir()
    pq.write_table(
        pa.table(
            {"text": [r["text"] for r in tweets], "label": [r["label"] for r in tweets], "lang": ["fr", "de"] * 20}
        ),
        data / "umsab_multilingual" / "validation.parquet",
    )
    tweets = labelled_rows(60, 37)
    pq.write_table(
        pa.table(
            {"text": [r["text"] for r in tweets], "label": [r["label"] for r in tweets], "lang": ["fr", "de"] * 30}
        ),
        data / "umsab_multilingual" / "train.parquet",
    )
    out = tmp_path / "results"
    result = accuracy.main(
        [
            "--dataset",
            "general",
            "--quick",
            "--data-dir",
            str(data),
            "--out",
            str(out),
            "--general-variant",
            "no-binary",
            "--general-variant",
            "english",
        ]
    )
    mixed = result["general"]
    judged = {row["task"]: row for row in mixed["rows"]}
    assert set(judged) == {"sst2", "airline_tweets", "nlp_text_emotion", "umsab_de", "umsab_fr"}
    assert judged["umsab_fr"]["lstm"]["n"] == 20 and judged["umsab_fr"]["targets"] == {"macro_f1": 0.548}
    assert judged["sst2"]["decided_among"] == ["negative", "positive"]
    assert judged["airline_tweets"]["decided_among"] == ["negative", "neutral", "positive"]
    for row in judged.values():
        for system in ("lstm", "tfidf_lr", "vader"):  # VADER reads English only, and is measured anyway
            assert 0 <= row[system][row["metrics"][0]] <= 1, (row["task"], system)
    assert set(mixed["mix"]) == {"airline_tweets", "sst2", "nlp_text_emotion", "umsab_multilingual"}
    assert set(mixed["ablations"]["no-binary"]["mix"]) == {"airline_tweets", "nlp_text_emotion", "umsab_multilingual"}
    english = mixed["ablations"]["english"]  # another mix: peers trained on it, in this run
    assert "umsab_multilingual" in mixed["mix"] and "umsab_multilingual" not in english["mix"]
    assert all(row["tfidf_lr"] for row in english["rows"])
    table = (out / "accuracy.md").read_text()
    assert "## The general model" in table and "| sst2/validation.parquet | negative/positive | accuracy |" in table
    assert "| no-binary |" in table and "### Variant english, with peers trained on its mix" in table
    assert "| umsab_multilingual/validation.parquet lang=fr | negative/neutral/positive | macro_f1 |" in table


def test_the_docs_tables_are_generated_from_the_results(tmp_path):
    import pytest

    from bench import tables

    assert tables.stale() == []  # docs/*.md hold exactly what bench/results/*.json give
    doc = tmp_path / "page.md"
    doc.write_text("before\n<!-- generated: accuracy-general -->\nedited by hand\n<!-- /generated -->\nafter\n")
    assert tables.stale(tmp_path) == [str(doc)]
    doc.write_text(tables.render(doc.read_text()))
    assert tables.stale(tmp_path) == []
    assert "| judged on | decided among |" in doc.read_text() and doc.read_text().endswith("after\n")
    with pytest.raises(ValueError, match="unknown generated block"):
        tables.render("<!-- generated: nope -->\n<!-- /generated -->")
