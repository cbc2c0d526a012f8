import hashlib
import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.ids import make_doc_id
from ingestion.ingest import ingest_source
from ingestion.records import RecordError, clean_text, parse_timestamp
from ingestion.sources import SourceSpec
from sentiment.warehouse import Warehouse
from tests.factories import write_demo_data


def _read(root):
    # the files carry `source` themselves; read them without hive partition columns
    return pq.read_table(root, partitioning=None)


def _digests(root):
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*.parquet"))
    }


def test_demo_corpora_dedup_quarantine_and_reconcile(tmp_path):
    from ingestion.config import demo_sources

    data = write_demo_data(tmp_path / "data")
    warehouse = Warehouse(tmp_path / "wh")
    tw, news = (ingest_source(spec, warehouse) for spec in demo_sources(data))
    assert (tw.read, tw.written, tw.duplicates, tw.quarantined) == (61, 60, 1, 0)
    assert (news.read, news.written, news.duplicates, news.quarantined) == (12, 11, 0, 1)
    assert tw.reconciles and news.reconciles
    rows = _read(warehouse.raw).to_pylist()
    assert len(rows) == 71 and len({r["doc_id"] for r in rows}) == 71
    assert {r["doc_id"].split(":")[0] for r in rows} == {"twitter", "reddit_worldnews"}
    quarantined = _read(warehouse.quarantine).to_pylist()
    assert [(q["record"], q["reason"]) for q in quarantined] == [(5, "empty text (only whitespace)")]
    assert json.loads(quarantined[0]["raw"])["doc_id"] == "2015-02-18_02"
    # partitions: raw/source=<s>/date=<d>/part-0.parquet
    assert (warehouse.raw / "source=twitter" / "date=2015-02-17" / "part-0.parquet").is_file()


def test_reingesting_the_same_input_leaves_byte_identical_partitions(tmp_path):
    from ingestion.config import demo_sources

    data = write_demo_data(tmp_path / "data")
    warehouse = Warehouse(tmp_path / "wh")
    for spec in demo_sources(data):
        ingest_source(spec, warehouse)
    before = _digests(warehouse.raw)
    again = [ingest_source(spec, warehouse) for spec in demo_sources(data)]
    assert _digests(warehouse.raw) == before
    assert [s.written for s in again] == [0, 0]
    assert [s.duplicates for s in again] == [61, 11]
    assert len(_read(warehouse.quarantine)) == 1  # not repeated


def test_overlapping_input_adds_only_new_documents(tmp_path):
    warehouse = Warehouse(tmp_path / "wh")
    day = datetime(2020, 1, 1, 12, tzinfo=UTC)
    first = [{"id": i, "text": f"post {i}", "ts": day} for i in range(5)]
    second = [{"id": i, "text": f"post {i}", "ts": day} for i in range(3, 8)]
    for name, rows in (("a", first), ("b", second)):
        pq.write_table(pa.Table.from_pylist(rows), tmp_path / f"{name}.parquet")
    spec = dict(name="forum", id_field="id", time_field="ts")
    s1 = ingest_source(SourceSpec(path=tmp_path / "a.parquet", **spec), warehouse)
    s2 = ingest_source(SourceSpec(path=tmp_path / "b.parquet", **spec), warehouse)
    assert (s1.written, s2.written, s2.duplicates) == (5, 3, 2)
    ids = pq.read_table(warehouse.raw_partition("forum", "2020-01-01")).column("doc_id").to_pylist()
    assert ids == sorted(f"forum:{i}" for i in range(8))


def test_bad_jsonl_records_are_quarantined_with_reasons(tmp_path):
    lines = [
        '\ufeff{"id": 1, "text": "fine", "ts": "2021-03-04T10:00:00+02:00"}',
        "{not json",
        '{"id": 2, "text": 42, "ts": 1614852000}',
        '{"id": 3, "text": "", "ts": 1614852000}',
        '{"id": 4, "text": "ok", "ts": "yesterday-ish"}',
        '{"id": 5, "text": "millis", "ts": 1614852000000}',
        '["a", "list"]',
    ]
    path = tmp_path / "dump.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe bad bytes\n")
    warehouse = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="x", path=path, format="jsonl", time_field="ts"), warehouse)
    assert (summary.read, summary.written, summary.quarantined) == (8, 2, 6)
    reasons = {q["record"]: q["reason"] for q in _read(warehouse.quarantine).to_pylist()}
    assert reasons[1].startswith("malformed JSON")
    assert reasons[2] == "text is not a string but int"
    assert reasons[3] == "empty text (only whitespace)"
    assert reasons[4].startswith("unparseable timestamp")
    assert reasons[6] == "JSON line is not an object"
    assert reasons[7].startswith("invalid UTF-8")
    stored = _read(warehouse.raw).to_pylist()
    assert {r["doc_id"] for r in stored} == {"x:1", "x:5"}


def test_csv_with_embedded_newlines_and_a_short_row(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_text('id,text,ts\n1,"line one\nline ""two""",2021-01-01T00:00:00Z\n2,short\n')
    warehouse = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="c", path=path, format="csv", time_field="ts"), warehouse)
    assert (summary.written, summary.quarantined) == (1, 1)
    assert _read(warehouse.raw).column("text").to_pylist() == ['line one line "two"']


@pytest.mark.parametrize(
    "value, expected",
    [
        (1614852000, datetime(2021, 3, 4, 10, tzinfo=UTC)),
        (1614852000000, datetime(2021, 3, 4, 10, tzinfo=UTC)),
        ("2021-03-04T12:00:00+02:00", datetime(2021, 3, 4, 10, tzinfo=UTC)),
        ("2021-03-04T10:00:00Z", datetime(2021, 3, 4, 10, tzinfo=UTC)),
    ],
)
def test_timestamps(value, expected):
    assert parse_timestamp(value) == expected


def test_naive_timestamps_use_the_source_time_zone():
    assert parse_timestamp("2021-03-04 02:00:00", "America/New_York") == datetime(2021, 3, 4, 7, tzinfo=UTC)


def test_record_helpers():
    assert clean_text("  Cafe\u0301\n\t ok ") == "Café ok"
    with pytest.raises(RecordError, match="not a string"):
        clean_text(["a"])
    with pytest.raises(RecordError, match="unparseable"):
        parse_timestamp("garbage")
    assert make_doc_id("s", 12.0, "abc") == "s:12"
    assert make_doc_id("s", None, "abc") == "s:habc"


def test_missing_input_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="input file not found"):
        ingest_source(SourceSpec(name="x", path=tmp_path / "nope.parquet"), Warehouse(tmp_path))
