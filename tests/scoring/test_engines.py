"""The scoring job on real Apache Flink and Apache Spark (Beam's job servers from `make engines`):
the same small lake scored by the local runner, Flink embedded, Spark local[2] and a standalone
Flink cluster (JobManager + TaskManager JVMs) writes the same tables, manifests and counters.

Needs Java 17 and `.engines/` (`make engines`, which `make test` runs first); without them
these tests skip and say how to run them.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from pipelines.jobserver import EngineMissingError, class_path
from pipelines.score import ScoreJob, score_range
from sentiment.query import run_query
from tests.factories import make_lake

pytestmark = [pytest.mark.engine, pytest.mark.slow, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]
START, END = "2015-02-17", "2015-02-20"
HOW = "run `make engines` (needs Java 17 and Maven), then `make test` or `pytest -m engine`"


def _require(engine: str) -> None:
    if shutil.which("java") is None:
        pytest.skip(f"engine test skipped: no `java` on PATH; install Java 17, then {HOW}")
    try:
        class_path(engine)
    except EngineMissingError as err:
        pytest.skip(f"engine test skipped: {err}; {HOW}")


TOPICS = '[topics.crew]\nkeywords = ["crew"]\n[topics.today]\nkeywords = ["today", "this"]\n'


def _lake(root: Path, model: Path):
    warehouse = make_lake(root, model)
    (warehouse.root / "topics.toml").write_text(TOPICS)  # so daily_topic_sentiment has rows
    return warehouse


@pytest.fixture(scope="module")
def reference(tiny_model, tmp_path_factory):
    """The lake scored by Beam's local runner: what every engine must reproduce."""
    warehouse = _lake(tmp_path_factory.mktemp("local"), tiny_model)
    summary = score_range(ScoreJob(home=warehouse.root, start=START, end=END))
    return warehouse, summary


# A document's scores do not depend on its batch (the folded model, tested in
# tests/model/test_backends.py) and aggregates sum exactly: every engine writes the local
# runner's tables bit for bit (padding counters included).


def _table(warehouse, name: str, keys: list[str]) -> pd.DataFrame:
    return run_query(warehouse, f"SELECT * FROM {name}").sort_values(keys).reset_index(drop=True)


def _assert_same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert len(got) == len(expected) > 0
    assert_frame_equal(expected, got, check_exact=True)


def _manifests(warehouse) -> dict[str, dict]:
    out = {}
    for path in sorted((warehouse.manifests / "score").glob("date=*.json")):
        manifest = json.loads(path.read_text())
        manifest.pop("written_at")
        assert len(manifest.pop("input_fingerprint")) == 64  # each lake's own raw bytes (ingestion times differ)
        out[path.name] = manifest
    return out


# The standalone Flink cluster is tested in tests/storage/test_shared_nothing.py, where its workers
# share no disk with the submitter and scoring and ingestion must still give the local tables.
@pytest.mark.parametrize("profile", ["flink-local", "spark-local"])
def test_engine_writes_the_same_tables_as_the_local_runner(profile, reference, tiny_model, tmp_path):
    engine = profile.split("-")[0]
    _require(engine)
    local, local_summary = reference
    warehouse = _lake(tmp_path, tiny_model)
    summary = score_range(
        ScoreJob(home=warehouse.root, start=START, end=END, profile=ROOT / "infra" / "runners" / f"{profile}.yaml")
    )

    assert summary.job_server_startup_s > 0  # the job started its own job server
    # how many batches the runner's bundles made varies (small tables join into whole batches);
    # every other counter, and every score, does not
    assert {k: v for k, v in summary.counters.items() if k != "batches"} == {
        k: v for k, v in local_summary.counters.items() if k != "batches"
    }
    assert summary.counters["documents_scored"] > 0
    scored_local, scored = _table(local, "scored", ["doc_id"]), _table(warehouse, "scored", ["doc_id"])
    assert scored["doc_id"].tolist() == scored_local["doc_id"].tolist()
    assert scored["label"].tolist() == scored_local["label"].tolist()
    _assert_same(scored_local, scored)
    for table, keys in (
        ("daily_sentiment", ["date", "source", "lang"]),
        ("hourly_sentiment", ["hour", "source", "lang"]),
        ("daily_topic_sentiment", ["date", "source", "lang", "topic"]),
    ):
        _assert_same(_table(local, table, keys), _table(warehouse, table, keys))
    manifests = _manifests(warehouse)
    assert manifests == _manifests(local)
    assert len(manifests) == 4 and all(m["scored"] > 0 for m in manifests.values())


def test_a_backfill_on_flink_starts_the_job_server_once(prefect_harness, tiny_model, tmp_path):
    from flows.backfill import backfill_flow
    from pipelines.jobserver import engines_dir

    _require("flink")
    warehouse = _lake(tmp_path, tiny_model)
    logs = engines_dir() / "logs"
    before = set(logs.glob("flink-job-server-*.log"))
    result = backfill_flow(
        warehouse.root, date(2015, 2, 17), date(2015, 2, 19), profile=ROOT / "infra" / "runners" / "flink-local.yaml"
    )
    assert result.done == ["2015-02-17", "2015-02-18", "2015-02-19"] and not result.failed
    assert len(set(logs.glob("flink-job-server-*.log")) - before) == 1  # one job server for three jobs
    assert result.documents == run_query(warehouse, "SELECT count(*) AS n FROM scored")["n"][0]


@pytest.mark.parametrize("profile", ["flink-local", "spark-local"])
def test_ingestion_on_an_engine_stores_what_the_local_path_does(profile, tmp_path):
    """The Beam ingestion job on Flink / Spark, every bad-input case in its inputs: same counts,
    same rows, same quarantine as `sentiment ingest` without Beam."""
    from datetime import UTC, datetime

    from ingestion.config import source_from_preset
    from ingestion.ingest import ingest_source
    from pipelines.ingest import ingest_with_beam
    from sentiment.warehouse import Warehouse
    from tests.ingestion.test_ingest_beam import _dumps, _state

    _require(profile.split("-")[0])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    spec = source_from_preset("s", _dumps(tmp_path / "dumps"), "generic")
    local, engine = Warehouse(tmp_path / "local"), Warehouse(tmp_path / "engine")
    expected = ingest_source(spec, local, now=now)
    got = ingest_with_beam(spec, engine, now=now, profile=ROOT / "infra" / "runners" / f"{profile}.yaml")
    assert got.counts() == expected.counts()
    assert _state(engine) == _state(local)
