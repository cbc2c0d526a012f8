"""The scoring job on a tiny warehouse: counts, aggregates against DuckDB, idempotent re-runs."""

from datetime import date

import pytest
from pandas.testing import assert_frame_equal

from pipelines.score import ScoreJob, parse_args, score_range
from sentiment.query import run_query
from sentiment.warehouse import Warehouse
from tests.factories import make_lake

WEEK = date(2015, 2, 17), date(2015, 2, 19)


@pytest.fixture
def warehouse(tmp_path, tiny_model) -> Warehouse:
    return make_lake(tmp_path, tiny_model)


def _tables(wh):
    scored = run_query(wh, "SELECT * FROM scored ORDER BY doc_id")
    daily = run_query(wh, "SELECT * FROM daily_sentiment ORDER BY date, source, lang")
    hourly = run_query(wh, "SELECT * FROM hourly_sentiment ORDER BY hour, source, lang")
    return scored, daily, hourly


def test_score_range_scores_every_document_and_aggregates_agree(warehouse):
    summary = score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1]))
    documents = run_query(
        warehouse, "SELECT count(*) AS n FROM documents WHERE date BETWEEN '2015-02-17' AND '2015-02-19'"
    )["n"][0]
    assert summary.counters["documents_read"] == summary.counters["documents_scored"] == documents == 65
    assert summary.days == 3 and summary.files == 6 and summary.counters["documents_skipped"] == 0
    assert summary.counters["batches"] >= 1 and summary.mean_batch_size > 1
    assert 0 < summary.padding_efficiency <= 1
    # the aggregate table equals the same numbers computed directly over scored/
    mismatches = run_query(
        warehouse,
        """
        WITH direct AS (
            SELECT date, source, lang, count(*) AS documents,
                   count(*) FILTER (label = 'negative') AS n_negative,
                   count(*) FILTER (label = 'positive') AS n_positive,
                   avg(score) AS mean_score
            FROM scored GROUP BY ALL)
        SELECT * FROM direct FULL JOIN daily_sentiment d USING (date, source, lang)
        WHERE direct.documents IS DISTINCT FROM d.documents
           OR direct.n_negative IS DISTINCT FROM d.n_negative
           OR direct.n_positive IS DISTINCT FROM d.n_positive
           OR abs(direct.mean_score - d.mean_score) > 1e-9
        """,
    )
    assert mismatches.empty, mismatches
    # and the hourly one, over the UTC hour of each document's time
    hourly_mismatches = run_query(
        warehouse,
        """
        WITH direct AS (
            SELECT date, date_trunc('hour', timezone('UTC', published_at)) AS hour, source, lang,
                   count(*) AS documents, count(*) FILTER (label = 'negative') AS n_negative, avg(score) AS m
            FROM scored GROUP BY ALL)
        SELECT * FROM direct FULL JOIN hourly_sentiment h USING (date, hour, source, lang)
        WHERE direct.documents IS DISTINCT FROM h.documents OR direct.n_negative IS DISTINCT FROM h.n_negative
           OR abs(direct.m - h.mean_score) > 1e-9
        """,
    )
    assert hourly_mismatches.empty, hourly_mismatches
    hours = run_query(warehouse, "SELECT sum(documents) AS n, count(DISTINCT hour) AS h FROM hourly_sentiment")
    assert hours["n"][0] == 65 and hours["h"][0] > 3
    scored, _, _ = _tables(warehouse)
    assert scored["doc_id"].is_unique
    assert scored["model_version"].nunique() == 1
    assert ((scored["p_negative"] + scored["p_neutral"] + scored["p_positive"] - 1).abs() < 1e-5).all()


def test_rescoring_a_range_changes_nothing(warehouse):
    job = ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1])
    score_range(job)
    first = _tables(warehouse)
    score_range(job)
    second = _tables(warehouse)
    for before, after in zip(first, second, strict=True):
        assert before.equals(after)


def test_scoring_one_day_leaves_other_days_alone(warehouse):
    score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1]))
    before = _tables(warehouse)
    score_range(ScoreJob(home=warehouse.root, start=date(2015, 2, 18), end=date(2015, 2, 18)))
    for old, new in zip(before, _tables(warehouse), strict=True):
        # bit for bit: a document's batch is cut from its raw file, whatever else the job scores
        assert_frame_equal(old, new, check_exact=True)


def test_manifests_record_model_input_and_counts(warehouse):
    from pipelines.manifest import read_manifest

    summary = score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1]))
    manifest = read_manifest(warehouse, "2015-02-18")
    assert manifest["model_version"] == summary.model_version
    assert manifest["sources"] == ["reddit_worldnews", "twitter"]
    assert manifest["scored"] == sum(manifest["scored_by_source"].values()) == 23  # 20 tweets + 3 headlines
    assert manifest["daily_sentiment_rows"] == 2
    assert len(manifest["input_fingerprint"]) == 64
    # the fingerprint changes when that day's input does, and only then
    again = score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1]))
    assert read_manifest(warehouse, "2015-02-18")["input_fingerprint"] == manifest["input_fingerprint"]
    assert again.days == 3


def test_topics_table_from_config_and_hashtags(warehouse, tmp_path):
    topics = tmp_path / "topics.toml"
    topics.write_text('[topics.crew]\nkeywords = ["crew"]\n[topics.leaders]\npatterns = ["world leaders?"]\n')
    score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1], topics_file=topics))
    per_topic = run_query(
        warehouse, "SELECT topic, source, sum(documents) AS n FROM daily_topic_sentiment GROUP BY ALL ORDER BY ALL"
    )
    direct = run_query(
        warehouse,
        "SELECT t.topic, source, count(*) AS n FROM scored, unnest(topics) AS t(topic) GROUP BY ALL ORDER BY ALL",
    )
    assert_frame_equal(per_topic, direct, check_dtype=False)
    assert set(per_topic["topic"]) == {"crew", "leaders"}
    assert per_topic.query("topic == 'leaders'")["source"].tolist() == ["reddit_worldnews"]


def test_one_source_rescored_keeps_the_days_aggregates_whole(warehouse):
    score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1]))
    before = run_query(warehouse, "SELECT date, source, documents FROM daily_sentiment ORDER BY ALL")
    score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1], sources=["twitter"]))
    after = run_query(warehouse, "SELECT date, source, documents FROM daily_sentiment ORDER BY ALL")
    assert_frame_equal(before, after)


def test_empty_range_and_range_without_data_are_explicit_empty_results(warehouse):
    summary = score_range(ScoreJob(home=warehouse.root, start=date(2001, 1, 1), end=date(2001, 1, 31)))
    assert (summary.days, summary.files, summary.counters) == (0, 0, {})


def test_model_that_does_not_fit_its_files_is_a_clear_error(warehouse):
    import json

    meta_path = warehouse.current_model() / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["labels"] = ["a", "b"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="different models"):
        score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1]))


def test_missing_model_directory_is_a_clear_error(warehouse, tmp_path):
    with pytest.raises(FileNotFoundError, match="model directory not found"):
        score_range(ScoreJob(home=warehouse.root, start=WEEK[0], end=WEEK[1], model_dir=tmp_path / "nope"))


def test_arguments_split_app_flags_from_beam_options(tmp_path):
    job, as_json = parse_args(
        ["--home", str(tmp_path), "--from", "2015-02-17", "--to", "2015-02-18", "--runner=FnApiRunner", "--json"]
    )
    assert job.start == date(2015, 2, 17) and as_json and job.beam_args == ["--runner=FnApiRunner"]
    with pytest.raises(ValueError, match="after"):
        ScoreJob(home=tmp_path, start=date(2015, 2, 18), end=date(2015, 2, 17))


def test_no_current_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="sentiment train"):
        score_range(ScoreJob(home=tmp_path, start=WEEK[0], end=WEEK[1]))


def test_every_option_is_declared_once_and_both_commands_take_it(tmp_path, monkeypatch):
    import dataclasses

    from typer.testing import CliRunner

    from sentiment_cli import app

    monkeypatch.setenv("SENTIMENT_HOME", str(tmp_path / "wh"))
    helped = CliRunner().invoke(app, ["score", "--help"])
    assert helped.exit_code == 0, helped.output
    flags = [
        f.metadata["flag"] or "--" + f.name.replace("_", "-")
        for f in dataclasses.fields(ScoreJob)
        if "help" in f.metadata
    ]
    assert len(flags) == 14 and all(flag in helped.output for flag in flags)
    job, as_json = parse_args(
        [
            "--from",
            "2015-02-17",
            "--to",
            "2015-02-17",
            "--source",
            "a",
            "--source",
            "b",
            "--backend",
            "torch",
            "--max-tokens",
            "9",
            "--streaming",
        ]
    )
    assert job.sources == ["a", "b"] and job.backend == "torch" and job.max_tokens == 9 and not as_json
    assert job.home == tmp_path / "wh" and job.beam_args == ["--streaming"] and job.languages == "model"
    monkeypatch.setenv("SENTIMENT_VERBOSE", "1")  # a field's own default holds when its flag is not given
    assert parse_args(["--from", "2015-02-17", "--to", "2015-02-17"])[0].verbose
    with pytest.raises(SystemExit):
        parse_args(["--from", "2015-02-17", "--to", "2015-02-17", "--backend", "tensorflow"])
