"""The demo flow end to end under Prefect's test harness, on a tiny corpus the test makes."""

import json

import pytest
from pandas.testing import assert_frame_equal

from flows.demo import demo_flow
from sentiment.query import run_query
from sentiment.settings import DataMissingError
from sentiment.warehouse import Warehouse
from tests.factories import TINY_TRAIN

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def _snapshot(wh):
    return (
        run_query(wh, "SELECT * EXCLUDE (ingested_at) FROM documents ORDER BY doc_id"),
        run_query(
            wh, "SELECT * EXCLUDE (model_version, p_negative, p_neutral, p_positive, score) FROM scored ORDER BY doc_id"
        ),
        run_query(wh, "SELECT date, source, lang, documents FROM daily_sentiment ORDER BY ALL"),
    )


def test_demo_flow_end_to_end_and_rerun(prefect_harness, demo_data, tmp_path):
    home = tmp_path / "wh"
    result = demo_flow(home, demo_data, TINY_TRAIN)
    wh = Warehouse(home)

    ingested = sum(s["written"] for s in result["ingest"])
    assert all(s["read"] == s["written"] + s["duplicates"] + s["quarantined"] for s in result["ingest"])
    counters = result["score"]["counters"]
    assert counters["documents_read"] == counters["documents_scored"] == ingested == 71
    assert run_query(wh, "SELECT count(*) AS n FROM scored")["n"][0] == ingested

    direct = run_query(wh, "SELECT date, source, lang, count(*) AS documents FROM scored GROUP BY ALL ORDER BY ALL")
    table = run_query(wh, "SELECT date, source, lang, documents FROM daily_sentiment ORDER BY ALL")
    assert_frame_equal(direct, table, check_dtype=False)

    assert {"accuracy", "macro_f1", "macro_recall", "n", "per_class", "confusion", "ece"} <= set(result["test_metrics"])
    assert result["model_trained"] and list(result["evaluations"]) == ["airline_tweets/test.parquet"]
    assert json.loads((wh.models / "current" / "model.json").read_text())["labels"] == [
        "negative",
        "neutral",
        "positive",
    ]
    assert (wh.models / "current").resolve().name == result["model"].split("/")[-1]
    assert result["chart"].endswith(".png") and (wh.reports / "daily_sentiment.png").stat().st_size > 10_000
    assert list(result["daily_table"]["source"].unique()) == ["reddit_worldnews", "twitter"]

    first = _snapshot(wh)
    again = demo_flow(home, demo_data, TINY_TRAIN)  # a second run: same rows, no duplicates, no retraining
    assert not again["model_trained"] and again["model"] == result["model"]
    for before, after in zip(first, _snapshot(wh), strict=True):
        assert_frame_equal(before, after)
    assert run_query(wh, "SELECT count(*) AS n FROM scored")["n"][0] == ingested


def test_demo_flow_says_what_data_is_missing(prefect_harness, tmp_path):
    expected = "(?s)airline_tweets/all.parquet.*reddit_worldnews/all.parquet.*SENTIMENT_DATA_DIR"
    with pytest.raises(DataMissingError, match=expected):
        demo_flow(tmp_path / "wh", tmp_path / "empty", TINY_TRAIN)
