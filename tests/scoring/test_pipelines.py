"""Each Beam transform through TestPipeline + assert_that, on the in-process runner."""

from datetime import UTC, date, datetime
from pathlib import Path

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that, equal_to, is_not_empty

from ingestion.config import demo_sources
from ingestion.ingest import ingest_source
from pipelines.aggregate import DailySentiment, DailyTopicSentiment, HourlySentiment, daily_schema, hourly_schema
from pipelines.encode import EncodedBatch, EncodeDocuments
from pipelines.infer import Infer, padded, sub_batches
from pipelines.read import RAW_COLUMNS, ReadPartitions, raw_files
from pipelines.rows import ToScoredRows, scored_schema
from pipelines.topics import Topics
from pipelines.write import WritePartitions
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint
from sentiment_model.predict import Predictor
from tests.factories import beam_test_pipeline, write_demo_data

LABELS = ["negative", "neutral", "positive"]


@pytest.fixture
def warehouse(tmp_path) -> Warehouse:
    data = write_demo_data(tmp_path / "data")
    wh = Warehouse(tmp_path / "wh")
    for spec in demo_sources(data):
        ingest_source(spec, wh)
    return wh


def test_raw_files_prunes_by_date_and_source(warehouse):
    every = raw_files(str(warehouse.raw), date(2015, 2, 17), date(2015, 2, 19))
    assert len(every) == 6
    one_day = raw_files(str(warehouse.raw), date(2015, 2, 18), date(2015, 2, 18), ["twitter"])
    assert len(one_day) == 1 and "source=twitter/date=2015-02-18" in one_day[0]
    assert raw_files(str(warehouse.raw), date(2016, 1, 1), date(2016, 1, 2)) == []


def test_read_raw_documents(warehouse):
    files = raw_files(str(warehouse.raw), date(2015, 2, 18), date(2015, 2, 18), ["reddit_worldnews"])
    with beam_test_pipeline() as p:
        ids = p | ReadPartitions(files, RAW_COLUMNS) | beam.FlatMap(lambda t: t.column("doc_id").to_pylist())
        # 4 headlines that day, one of them blank and quarantined
        assert_that(ids, equal_to([f"reddit_worldnews:2015-02-18_0{i}" for i in (1, 3, 4)]))


def _documents(batch: EncodedBatch):
    """(key dict, ids list) per document of an encoded batch."""
    for i, key in enumerate(batch.keys.to_pylist()):
        yield key, batch.ids[batch.offsets[i] : batch.offsets[i + 1]].tolist()


def _raw(rows: list[dict]) -> pa.Table:
    schema = pa.schema(
        [
            ("doc_id", pa.string()),
            ("source", pa.string()),
            ("published_at", pa.timestamp("us", "UTC")),
            ("text", pa.string()),
            ("lang", pa.string()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def test_encode_documents_truncates_skips_and_finds_topics(tiny_model):
    max_tokens = checkpoint.read_meta(tiny_model)["max_tokens"]
    row = {"doc_id": "s:1", "source": "s", "lang": "en", "published_at": datetime(2015, 2, 17, 23, tzinfo=UTC)}
    rows = [
        {**row, "text": "love it #Win"},
        {**row, "doc_id": "s:2", "text": "love " * (max_tokens + 5)},
        {**row, "doc_id": "s:3", "text": "   "},
        {**row, "doc_id": "s:4", "text": None},
        {**row, "doc_id": "s:5", "text": "hello", "published_at": None},
    ]
    with beam_test_pipeline() as p:
        out = p | beam.Create([_raw(rows)]) | EncodeDocuments(str(tiny_model), topics=Topics())
        summary = (
            out.encoded
            | beam.FlatMap(_documents)
            | beam.MapTuple(
                lambda k, ids: (k["doc_id"], k["date"], k["truncated"], len(ids), k["n_tokens"], tuple(k["topics"]))
            )
        )
        assert_that(
            summary,
            equal_to(
                [
                    ("s:1", "2015-02-17", False, 3, 3, ("#win",)),
                    ("s:2", "2015-02-17", True, max_tokens, max_tokens, ()),
                ]
            ),
            label="encoded",
        )
        skipped = out.skipped | beam.Map(lambda r: (r["doc_id"], r["date"], r["reason"]))
        assert_that(
            skipped,
            equal_to(
                [
                    ("s:3", "2015-02-17", "empty_text"),
                    ("s:4", "2015-02-17", "empty_text"),
                    ("s:5", None, "no_timestamp"),
                ]
            ),
            label="skipped",
        )


def test_encode_cuts_batches_by_tokens_in_row_order(tiny_model):
    rows = [
        {
            "doc_id": f"s:{i}",
            "source": "s",
            "lang": "en",
            "published_at": datetime(2015, 2, 17, tzinfo=UTC),
            "text": "love it " * (1 + i % 3),
        }
        for i in range(10)
    ]  # 2, 4, 6, 2, 4, ... tokens
    with beam_test_pipeline() as p:
        out = p | beam.Create([_raw(rows)]) | EncodeDocuments(str(tiny_model), max_batch_tokens=10)
        batches = out.encoded | beam.Map(lambda b: (b.keys.column("doc_id").to_pylist(), int(b.lengths.sum())))
        assert_that(
            batches,
            equal_to(
                [
                    (["s:0", "s:1", "s:2"], 12),
                    (["s:3", "s:4", "s:5"], 12),
                    (["s:6", "s:7", "s:8"], 12),
                    (["s:9"], 2),
                ]
            ),
        )


def test_encode_joins_small_tables_into_whole_batches_when_asked(tiny_model):
    def table(day: int) -> pa.Table:  # a day's small file: two documents of 2 tokens
        return _raw(
            [
                {
                    "doc_id": f"s:{day}-{i}",
                    "source": "s",
                    "lang": "en",
                    "published_at": datetime(2015, 2, day, tzinfo=UTC),
                    "text": "love it",
                }
                for i in range(2)
            ]
        )

    tables = [table(day) for day in (17, 18, 19)]
    for join, expected in ((False, [2, 2, 2]), (True, [6])):
        with beam_test_pipeline() as p:
            out = p | beam.Create(tables) | EncodeDocuments(str(tiny_model), max_batch_tokens=100, join_tables=join)
            sizes = out.encoded | beam.Map(len)
            assert_that(sizes, equal_to(expected))


def test_encode_token_limit_can_be_set_per_run(tiny_model):
    row = {
        "doc_id": "s:1",
        "source": "s",
        "lang": "en",
        "published_at": datetime(2015, 2, 17, tzinfo=UTC),
        "text": "one two three four five",
    }
    with beam_test_pipeline() as p:
        out = p | beam.Create([_raw([row])]) | EncodeDocuments(str(tiny_model), max_tokens=2)
        assert_that(
            out.encoded
            | beam.FlatMap(_documents)
            | beam.MapTuple(lambda k, ids: (k["truncated"], k["n_tokens"], k["chars_cut"], len(ids))),
            equal_to([(True, 2, len(" three four five"), 2)]),
        )


def _batch(id_lists: list[list[int]], doc_ids: list[str] | None = None) -> EncodedBatch:
    n = len(id_lists)
    keys = {
        "doc_id": doc_ids or [str(i) for i in range(n)],
        "source": ["s"] * n,
        "date": ["2015-02-17"] * n,
        "published_at": [datetime(2015, 2, 17, 8, 30, tzinfo=UTC)] * n,
        "lang": ["en"] * n,
        "truncated": [False] * n,
        "n_tokens": [len(s) for s in id_lists],
        "chars_cut": [0] * n,
        "topics": [["#win", "acme"]] + [[]] * (n - 1),
    }
    return EncodedBatch.from_lists(keys, id_lists)


def test_infer_matches_the_model_outside_beam(tiny_model):
    texts = ["love great thanks", "hate awful worst delayed", "gate schedule tomorrow", "love", "awful awful"]
    expected = Predictor.load(tiny_model).probabilities(texts)
    bundle = checkpoint.load(tiny_model)
    batches = [
        _batch([bundle.vocab.encode(t.split()) for t in texts[:3]]),
        _batch([bundle.vocab.encode(t.split()) for t in texts[3:]], ["3", "4"]),
    ]

    def close_to_expected(results):
        assert len(results) == 2
        for result in results:
            for key, probs in zip(result.example.keys.column("doc_id").to_pylist(), result.inference, strict=True):
                assert np.allclose(probs, expected[int(key)].numpy(), atol=1e-5)

    with beam_test_pipeline() as p:
        results = p | beam.Create(batches) | Infer(Path(tiny_model), sub_batch_tokens=5)
        assert_that(results, close_to_expected)


def test_sub_batches_sort_by_length_and_pad_with_zeros():
    batch = _batch([[5, 6, 7], [8], [9, 10], [11]])
    parts = sub_batches(batch.lengths, sub_batch_tokens=4)
    assert [p.tolist() for p in parts] == [[1, 3], [2], [0]]  # stable by length; 3 x 2 tokens > 4
    tokens, lengths = padded(batch, np.array([0, 2]))
    assert tokens.tolist() == [[5, 6, 7], [9, 10, 0]] and lengths.tolist() == [3, 2]


def test_to_scored_rows():
    from apache_beam.ml.inference.base import PredictionResult

    batch = _batch([[3, 4, 5, 6]], ["s:1"])
    result = PredictionResult(batch, np.array([[0.7, 0.2, 0.1]], dtype=np.float32))
    with beam_test_pipeline() as p:
        rows = p | beam.Create([result]) | ToScoredRows(LABELS, "v1") | beam.FlatMap(lambda t: t.to_pylist())
        expected = {
            "doc_id": "s:1",
            "date": "2015-02-17",
            "source": "s",
            "published_at": datetime(2015, 2, 17, 8, 30, tzinfo=UTC),
            "lang": "en",
            "label": "negative",
            "p_negative": pytest.approx(0.7),
            "p_neutral": pytest.approx(0.2),
            "p_positive": pytest.approx(0.1),
            "score": pytest.approx(-0.6),
            "truncated": False,
            "n_tokens": 4,
            "chars_cut": 0,
            "topics": ["#win", "acme"],
            "model_version": "v1",
        }
        assert_that(rows, equal_to([expected]))


def _scored(doc_id, source, label, score, day="2015-02-17", topics=(), hour=9):
    return {
        "doc_id": doc_id,
        "date": day,
        "published_at": datetime.fromisoformat(f"{day}T{hour:02d}:15:00+00:00"),
        "source": source,
        "lang": "en",
        "label": label,
        "score": score,
        "topics": list(topics),
        "model_version": "v1",
    }


def _tables(*parts: list[dict]) -> list[pa.Table]:
    return [pa.Table.from_pylist(rows) for rows in parts]


def test_daily_sentiment_counts_shares_and_interval():
    rows = [
        _scored("1", "a", "positive", 0.8),
        _scored("2", "a", "negative", -0.6),
        _scored("3", "a", "positive", 0.4),
        _scored("4", "b", "neutral", 0.0),
    ]
    with beam_test_pipeline() as p:  # source a's rows arrive in two tables
        daily = p | beam.Create(_tables(rows[:2], rows[2:])) | DailySentiment(LABELS)

        def check(out):
            by_source = {r["source"]: r for r in out}
            a, b = by_source["a"], by_source["b"]
            assert (a["documents"], a["n_positive"], a["n_negative"], a["n_neutral"]) == (3, 2, 1, 0)
            assert a["share_positive"] == pytest.approx(2 / 3)
            assert a["mean_score"] == pytest.approx(0.2)
            assert a["std_score"] == pytest.approx(0.7211102, rel=1e-6)  # sample std of 0.8, -0.6, 0.4
            assert a["ci95_low"] < 0.2 < a["ci95_high"]
            assert b["documents"] == 1 and b["std_score"] is None and b["mean_score"] == 0.0

        assert_that(daily, check)


def test_daily_topic_sentiment_has_a_row_per_topic():
    rows = [
        _scored("1", "a", "positive", 0.8, topics=["acme", "#win"]),
        _scored("2", "a", "negative", -0.6, topics=["acme"]),
        _scored("3", "a", "neutral", 0.0),
    ]
    with beam_test_pipeline() as p:
        out = p | beam.Create(_tables(rows[:1], rows[1:])) | DailyTopicSentiment(LABELS)
        assert_that(
            out | beam.Map(lambda r: (r["topic"], r["documents"], r["n_positive"], round(r["mean_score"], 6))),
            equal_to([("acme", 2, 1, 0.1), ("#win", 1, 1, 0.8)]),
        )


def test_hourly_sentiment_groups_by_the_utc_hour():
    rows = [
        _scored("1", "a", "positive", 0.8, hour=9),
        _scored("2", "a", "negative", -0.6, hour=9),
        _scored("3", "a", "positive", 0.4, hour=23),
        _scored("4", "b", "neutral", 0.0, hour=9),
    ]
    untimed = pa.Table.from_pylist([_scored("5", "a", "positive", 1.0)]).drop_columns(["published_at"])
    with beam_test_pipeline() as p:  # hour 9 of source a arrives in two tables; one older table has no times
        hourly = p | beam.Create([*_tables(rows[:1], rows[1:]), untimed]) | HourlySentiment(LABELS)
        assert_that(
            hourly | beam.Map(lambda r: (r["hour"], r["source"], r["documents"], round(r["mean_score"], 6))),
            equal_to(
                [
                    (datetime(2015, 2, 17, 9), "a", 2, 0.1),
                    (datetime(2015, 2, 17, 23), "a", 1, 0.4),
                    (datetime(2015, 2, 17, 9), "b", 1, 0.0),
                ]
            ),
        )
    table = pa.Table.from_pylist(
        [{"hour": datetime(2015, 2, 17, 9)}], schema=pa.schema([hourly_schema(LABELS).field("hour")])
    )
    assert table.column("hour").type == pa.timestamp("us")  # naive UTC: SQL's date_trunc needs no time zone


def test_write_partitions_replaces_each_partition(tmp_path):
    schema = scored_schema(LABELS)
    row = {
        "lang": "en",
        "p_negative": 0.1,
        "p_neutral": 0.1,
        "p_positive": 0.8,
        "score": 0.7,
        "truncated": False,
        "model_version": "v1",
        "label": "positive",
    }
    row["n_tokens"], row["chars_cut"], row["topics"] = 3, 0, []
    rows = [{**row, "doc_id": f"d{i}", "date": f"2015-02-1{7 + i % 2}", "source": "s"} for i in range(5)]
    # an Arrow table holding rows of two partitions, and a dict row
    elements = [pa.Table.from_pylist(rows[:4], schema=schema), rows[4]]
    (tmp_path / "date=2015-02-19" / "source=s").mkdir(parents=True)  # stale: owned by the run, gets no rows
    owned = [("2015-02-17", "s"), ("2015-02-18", "s"), ("2015-02-19", "s")]
    for _ in range(2):  # a re-run replaces, never appends
        with beam_test_pipeline() as p:
            written = (
                p
                | beam.Create(elements)
                | WritePartitions(str(tmp_path), ("date", "source"), schema, ["doc_id"], owned)
            )
            assert_that(
                written | beam.Map(lambda w: (w["date"], w["rows"])), equal_to([("2015-02-17", 3), ("2015-02-18", 2)])
            )
    assert not (tmp_path / "date=2015-02-19").joinpath("source=s").exists()
    table = pq.read_table(tmp_path / "date=2015-02-17" / "source=s" / "part-0.parquet")
    assert table.column("doc_id").to_pylist() == ["d0", "d2", "d4"]
    assert "date" not in table.column_names  # partition values live in the path
    assert daily_schema(LABELS).field("ci95_low").type == "double"


def test_read_pipeline_is_not_empty(warehouse):
    files = raw_files(str(warehouse.raw), date(2015, 2, 17), date(2015, 2, 19))
    with beam_test_pipeline() as p:
        assert_that(p | ReadPartitions(files, RAW_COLUMNS), is_not_empty())
