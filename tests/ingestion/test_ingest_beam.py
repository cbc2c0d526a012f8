"""Ingestion as a Beam job: each stage with TestPipeline, and the whole job on Beam's local runner
against the local path on the same inputs (every bad-input case): same counts, same rows,
same quarantine; a re-run changes nothing."""

import gzip
import json
from datetime import UTC, datetime

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that, equal_to

from ingestion.clean import Window
from ingestion.config import source_from_preset
from ingestion.ingest import ingest_source
from ingestion.sources import SourceSpec
from pipelines.ingest import CleanPieces, MergeDays, PlanPieces, ingest_with_beam
from sentiment.warehouse import Warehouse
from tests.factories import beam_test_pipeline
from tests.ingestion.test_ingest_batch import BAD, _records, _write_jsonl

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _dumps(folder):
    """A folder of every input shape: JSONL with every bad record, a truncated gzip file, a CSV
    with a short row, a Parquet file, an empty file."""
    folder.mkdir()
    _write_jsonl(folder / "a.jsonl", _records(1500), BAD)
    good = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in _records(200, seed=3)))
    (folder / "b.jsonl.gz").write_bytes(good[: len(good) // 2])
    (folder / "c.csv").write_text("id,text,published_at\nc1,from a csv,2025-03-02T08:00:00Z\nc2,short row\n")
    rows = _records(100, seed=4)
    pq.write_table(
        pa.table(
            {
                "id": [f"p{i}" for i in range(100)],
                "text": [r["text"] for r in rows],
                "published_at": ["2025-03-03T08:00:00Z"] * 100,
            }
        ),
        folder / "d.parquet",
    )
    (folder / "e.jsonl").write_bytes(b"")
    return folder


def _state(wh: Warehouse) -> tuple[list, list]:
    stored = sorted(pq.read_table(wh.raw, partitioning=None).to_pylist(), key=lambda r: r["doc_id"])
    quarantined = pq.read_table(wh.quarantine, partitioning=None).to_pylist()
    return stored, sorted(quarantined, key=lambda r: (r["input"], r["record"]))


def test_the_beam_job_stores_and_counts_what_the_local_path_does(tmp_path):
    spec = source_from_preset("s", _dumps(tmp_path / "dumps"), "generic")
    local, beamed = Warehouse(tmp_path / "local"), Warehouse(tmp_path / "beam")
    expected = ingest_source(spec, local, now=NOW)
    got = ingest_with_beam(spec, beamed, now=NOW)
    assert got.counts() == expected.counts()
    assert got.quarantined >= len(BAD) and len(got.errors) == 1 and "b.jsonl.gz" in got.errors[0]["input"]
    assert _state(beamed) == _state(local)
    files = {p.relative_to(beamed.root): p.read_bytes() for p in beamed.raw.rglob("*.parquet")}
    again = ingest_with_beam(spec, beamed, now=NOW)
    assert (again.written, again.duplicates + again.quarantined + again.out_of_range) == (0, again.read)
    assert {p.relative_to(beamed.root): p.read_bytes() for p in beamed.raw.rglob("*.parquet")} == files


def test_the_beam_job_keeps_a_date_window_and_runs_on_worker_processes(tmp_path):
    spec = source_from_preset("s", _dumps(tmp_path / "dumps"), "generic")
    local, beamed = Warehouse(tmp_path / "local"), Warehouse(tmp_path / "beam")
    window = {"start": datetime(2025, 3, 3).date(), "end": datetime(2025, 3, 3).date()}
    expected = ingest_source(spec, local, now=NOW, **window)
    got = ingest_with_beam(
        spec, beamed, now=NOW, **window, beam_args=["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    )
    assert got.counts() == expected.counts() and got.out_of_range > 0
    assert _state(beamed) == _state(local)


def test_plan_and_clean_stages(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": 1, "text": "fine", "published_at": "2025-03-02T08:00:00Z"}\n{"id": 2}\n')
    spec = SourceSpec(name="s", path=path)
    with beam_test_pipeline() as p:
        planned = p | beam.Create([(0, str(path))]) | PlanPieces(spec, tmp_path / "state", NOW)
        cleaned = planned.tasks | CleanPieces(spec, NOW, Window())
        days = cleaned.rows | "Keys" >> beam.Map(lambda kv: (kv[0], kv[1].column("doc_id").to_pylist()))
        reasons = cleaned.quarantined | beam.Map(lambda kv: kv[1]["reason"])
        assert_that(planned.inputs, equal_to([str(path)]), label="inputs")
        assert_that(days, equal_to([("2025-03-02", ["s:1"])]), label="days")
        assert_that(reasons, equal_to(["missing text: looked for text; record has id"]), label="reasons")


def test_merge_stage_writes_each_day_once(tmp_path):
    path = tmp_path / "a.jsonl"
    lines = [{"id": i, "text": f"post {i % 3}", "published_at": f"2025-03-0{1 + i % 2}T08:00:00Z"} for i in range(6)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    spec = SourceSpec(name="s", path=path, detect_lang=False)
    wh = Warehouse(tmp_path / "wh")
    with beam_test_pipeline() as p:
        planned = p | beam.Create([(0, str(path))]) | PlanPieces(spec, tmp_path / "state", NOW)
        cleaned = planned.tasks | CleanPieces(spec, NOW, Window())
        merged = cleaned.rows | MergeDays(spec, wh.root)
        assert_that(merged, equal_to([("2025-03-01", 3, 0), ("2025-03-02", 3, 0)]))
    assert len(pq.read_table(wh.raw, partitioning=None)) == 6


@pytest.mark.parametrize("bad_profile", ["nope.yaml"])
def test_an_unknown_profile_is_a_clear_error(tmp_path, bad_profile):
    spec = SourceSpec(name="s", path=_dumps(tmp_path / "dumps") / "a.jsonl")
    with pytest.raises(FileNotFoundError):
        ingest_with_beam(spec, Warehouse(tmp_path / "wh"), profile=tmp_path / bad_profile)
