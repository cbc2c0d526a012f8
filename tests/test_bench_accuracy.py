"""The accuracy benchmark runs end to end on a tiny dataset directory shaped like the real one."""

import json

from bench import accuracy
from bench.tasks import TASKS
from tests.factories import write_labelled_dir


def test_accuracy_benchmark_writes_the_table(tmp_path):
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
