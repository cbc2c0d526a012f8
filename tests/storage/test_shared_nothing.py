"""A standalone Flink cluster (two TaskManagers) whose Python workers share no disk with the
submitter: an EXTERNAL worker pool in its own mount namespace, the warehouse on the S3 server."""

import contextlib
import os

import pytest
import yaml
from typer.testing import CliRunner

from sentiment.s3server import free_port
from sentiment_cli import app
from tests.scoring.test_engines import HOW, _require
from tests.storage.test_s3_warehouse import _s3_lake, _tables
from tests.storage.test_store_faults import _can_mount

pytestmark = [pytest.mark.engine, pytest.mark.s3, pytest.mark.slow]
runner = CliRunner()


@contextlib.contextmanager
def isolated_workers(tmp_path):
    """An isolated worker pool (tmp_path hidden from it) and a profile pointing the cluster at it;
    yields (profile path, the pool's log)."""
    from pipelines import worker_pool

    port = free_port()
    log = tmp_path.parent / f"{tmp_path.name}-pool.log"  # opened before the namespace hides tmp_path
    pool = worker_pool.start(port, hide=[tmp_path], env=dict(os.environ), log=log)
    try:
        profile = tmp_path / "profile.yaml"
        config = yaml.safe_load(open("infra/runners/flink-cluster-shared-nothing.yaml"))
        config["options"]["environment_config"] = f"127.0.0.1:{port}"
        profile.write_text(yaml.safe_dump(config))
        yield profile, log
    finally:
        os.killpg(pool.pid, 9)
        pool.wait()


@pytest.fixture
def two_taskmanagers():
    from pipelines import flink_cluster
    from pipelines.jobserver import EngineMissingError

    _require("flink")
    try:
        flink_cluster.flink_home()
    except EngineMissingError as err:
        pytest.skip(f"engine test skipped: {err}; {HOW}")
    already = flink_cluster.overview() is not None
    state = flink_cluster.up(taskmanagers=2)
    assert state["taskmanagers"] == 2
    yield state
    if not already:
        flink_cluster.down()


@pytest.mark.skipif(not _can_mount(), reason="needs `unshare -m` and tmpfs mounts (root, or a user namespace)")
def test_workers_without_the_submitters_disk_write_the_tables_the_local_runner_writes(
    s3_home, tiny_model, tmp_path, monkeypatch, two_taskmanagers
):
    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path / "cache"))
    lake = _s3_lake(tmp_path, tiny_model, s3_home)  # scored locally: the reference
    with isolated_workers(tmp_path) as (profile, log):
        score = ["score", "--home", s3_home, "--from", "2015-02-17", "--to", "2015-02-20", "--profile", str(profile)]
        result = runner.invoke(app, [*score, "--json"])
        assert result.exit_code == 0, result.output[-3000:] + log.read_text()[-3000:]
    assert _tables(s3_home) == _tables(lake.root)


@pytest.mark.skipif(not _can_mount(), reason="needs `unshare -m` and tmpfs mounts (root, or a user namespace)")
def test_ingest_with_beam_there_from_and_to_s3_stores_what_the_local_ingest_stores(
    s3_home, tmp_path, monkeypatch, two_taskmanagers
):
    import json

    from sentiment.storage import location
    from tests.storage.test_s3_warehouse import _tweets

    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path / "cache"))
    dump = _tweets(tmp_path / "t.jsonl", 60)
    (location(s3_home) / "inputs" / "t.jsonl").write_bytes(dump.read_bytes())  # the input too is in the bucket
    args = ["ingest", "--source", "tw", "--preset", "twitter", "--json"]
    local = runner.invoke(app, [*args, "--input", str(dump), "--home", str(tmp_path / "wh")])
    assert local.exit_code == 0, local.output
    with isolated_workers(tmp_path) as (profile, log):
        there = [*args, "--input", f"{s3_home}/inputs/t.jsonl", "--home", f"{s3_home}/wh", "--beam"]
        result = runner.invoke(app, [*there, "--profile", str(profile)])
        assert result.exit_code == 0, result.output[-3000:] + log.read_text()[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["written"] == 60
    query = ["query", "SELECT * EXCLUDE (ingested_at) FROM documents ORDER BY doc_id", "--format", "json"]
    tables = [runner.invoke(app, [*query, "--home", home]).stdout for home in (str(tmp_path / "wh"), f"{s3_home}/wh")]
    assert json.loads(tables[0]) == json.loads(tables[1])
