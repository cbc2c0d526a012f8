"""Backfill, nightly, train and deployments under Prefect's test harness, on a tiny lake."""

import inspect
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from pandas.testing import assert_frame_equal

from flows.backfill import backfill_flow
from flows.nightly import nightly_flow
from flows.train import train_flow
from ingestion.ingest import ingest_source
from pipelines.manifest import manifest_path
from sentiment.query import run_query
from sentiment.warehouse import Warehouse
from tests.factories import TINY_TRAIN, make_lake, write_demo_data

pytestmark = [pytest.mark.slow, pytest.mark.integration]
D1, D3 = date(2015, 2, 17), date(2015, 2, 20)


def _lake(root, tiny_model) -> Warehouse:
    return make_lake(root, tiny_model)


def _tables(wh):
    return [run_query(wh, f"SELECT * FROM {t} ORDER BY ALL") for t in ("scored", "daily_sentiment", "hourly_sentiment")]


def test_backfill_skips_complete_days_and_single_run_gives_the_same_tables(prefect_harness, tmp_path, tiny_model):
    wh = _lake(tmp_path / "a", tiny_model)
    first = backfill_flow(wh.root, D1, D3, max_concurrency=2)
    assert first.done == ["2015-02-17", "2015-02-18", "2015-02-19", "2015-02-20"] and not first.failed
    assert first.documents == 71
    again = backfill_flow(wh.root, D1, date(2015, 2, 22))
    assert again.done == [] and len(again.skipped) == 4 and again.empty == ["2015-02-21", "2015-02-22"]
    forced = backfill_flow(wh.root, D1, D1, force=True)
    assert forced.done == ["2015-02-17"]

    other = _lake(tmp_path / "b", tiny_model)
    single = backfill_flow(other.root, D1, D3, single_run=True)
    assert single.done == first.done and single.documents == 71
    for a, b in zip(_tables(wh), _tables(other), strict=True):  # bit for bit: batches follow the raw files
        assert_frame_equal(a, b, check_exact=True)


def test_a_day_whose_outputs_were_deleted_or_changed_is_scored_again(prefect_harness, tmp_path, tiny_model):
    import shutil

    wh = _lake(tmp_path, tiny_model)
    backfill_flow(wh.root, D1, D3)
    before = _tables(wh)
    manifest = json.loads(manifest_path(wh, "2015-02-18").read_text())
    names = [o["path"] for o in manifest["outputs"]]
    assert any(n.startswith("scored/") for n in names)
    assert any(n.startswith("aggregates/daily_sentiment/") for n in names)
    shutil.rmtree(wh.scored / "date=2015-02-18")  # deleted by hand
    daily = wh.aggregates / "daily_sentiment" / "date=2015-02-19" / "part-0.parquet"
    daily.write_bytes(daily.read_bytes() + b"junk")  # replaced by another file
    again = backfill_flow(wh.root, D1, D3)
    assert again.done == ["2015-02-18", "2015-02-19"] and again.damaged == ["2015-02-18", "2015-02-19"]
    assert again.skipped == ["2015-02-17", "2015-02-20"]
    for a, b in zip(before, _tables(wh), strict=True):
        assert_frame_equal(a, b, check_exact=True)
    assert backfill_flow(wh.root, D1, D3).done == []  # and now they are complete again


def test_due_days_are_grouped_into_jobs_bounded_by_days_and_documents():
    from flows.plan import group_days

    days = ["2015-02-17", "2015-02-18", "2015-02-19", "2015-02-20", "2015-02-21"]
    documents = dict(zip(days, [10, 10, 50, 5, 5], strict=True))
    assert group_days(days, documents, 366, 1000) == [days]
    assert group_days(days, documents, 2, 1000) == [days[:2], days[2:4], days[4:]]
    assert group_days(days, documents, 366, 25) == [days[:2], days[2:3], days[3:]]  # a big day goes alone
    assert group_days(days, documents, 1, 1000) == [[d] for d in days]
    with pytest.raises(ValueError):
        group_days(days, documents, 0, 10)


def test_a_failed_day_is_retried_then_reported_and_the_others_go_on(prefect_harness, tmp_path, tiny_model):
    wh = _lake(tmp_path, tiny_model)
    broken = wh.raw_partition("twitter", "2015-02-18") / "part-0.parquet"
    broken.write_bytes(b"not parquet at all")
    result = backfill_flow(wh.root, D1, D3, max_concurrency=2)
    assert result.done == ["2015-02-17", "2015-02-19", "2015-02-20"]
    assert list(result.failed) == ["2015-02-18"]
    assert not manifest_path(wh, "2015-02-18").exists()  # the failed day is not marked complete


def test_a_new_input_file_makes_its_day_due_again(prefect_harness, tmp_path, tiny_model):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ingestion.sources import SourceSpec

    wh = _lake(tmp_path, tiny_model)
    backfill_flow(wh.root, D1, D3)
    extra = tmp_path / "extra.parquet"
    pq.write_table(
        pa.Table.from_pylist([{"id": "n1", "text": "great news", "published_at": "2015-02-18T10:00:00Z"}]), extra
    )
    ingest_source(SourceSpec(name="twitter", path=extra, id_field="id"), wh)
    result = backfill_flow(wh.root, D1, D3)
    assert result.done == ["2015-02-18"] and len(result.skipped) == 3


def test_nightly_scores_the_day_catches_up_and_writes_alerts(prefect_harness, tmp_path, tiny_model):
    wh = _lake(tmp_path, tiny_model)
    backfill_flow(wh.root, D1, D1)
    result = nightly_flow(wh.root, day=D3)
    assert result["range"] == ["2015-02-18", "2015-02-20"]  # the missed days, in one backfill
    assert result["backfill"]["done"] == ["2015-02-18", "2015-02-19", "2015-02-20"]
    assert (wh.root / "alerts" / "date=2015-02-20" / "part-0.parquet").is_file()
    assert manifest_path(wh, "2015-02-20").is_file()


def test_nightly_on_a_warehouse_without_a_model_scores_with_the_general_model(prefect_harness, tmp_path):
    data = write_demo_data(tmp_path / "data")
    wh = Warehouse(tmp_path / "wh")
    result = nightly_flow(wh.root, data_dir=data, day=D1)
    meta = json.loads((wh.models / "current" / "model.json").read_text())
    assert meta["labels"] == ["negative", "neutral", "positive"] and set(meta["data"]["mix"]) == {"airline_tweets"}
    assert result["backfill"]["done"] == ["2015-02-17"] and manifest_path(wh, "2015-02-17").is_file()
    assert (wh.root / "cache" / "general").is_dir()


def test_train_promotes_only_a_model_at_least_as_good(prefect_harness, tmp_path, labelled_dir):
    home = tmp_path / "wh"
    first = train_flow(home, labelled_dir, overrides=TINY_TRAIN)
    assert first["promoted"] and first["current"] is None
    worse = train_flow(home, labelled_dir, overrides={**TINY_TRAIN, "epochs": 1, "lr": 1e-6})
    assert not worse["promoted"] and worse["candidate"]["macro_f1"] < worse["current"]["macro_f1"]
    assert Warehouse(home).current_model().name == first["version"]
    from sentiment_model.registry import list_models

    listed = {m["version"]: m for m in list_models(Warehouse(home))}
    assert listed[first["version"]]["current"] and not listed[worse["version"]]["current"]
    assert "test" in listed[worse["version"]]["metrics"]


def test_deployments_register_with_their_schedules(prefect_harness, tmp_path):
    from prefect import get_client

    from flows.deploy import DeployConfig, register

    profile = tmp_path / "flink-local.yaml"
    register(
        DeployConfig(tmp_path / "wh", tmp_path / "data", cron="0 2 * * *", timezone="Europe/Berlin", profile=profile)
    )
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name("nightly/nightly")
        backfill = client.read_deployment_by_name("backfill/backfill")
        train = client.read_deployment_by_name("train/train")
    schedule = nightly.schedules[0].schedule
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Europe/Berlin")
    assert nightly.parameters["timezone"] == "Europe/Berlin" and nightly.parameters["lag_days"] == 1
    assert nightly.parameters["home"] == str(tmp_path / "wh")
    assert backfill.schedules == [] and train.schedules == []
    assert nightly.parameters["profile"] == backfill.parameters["profile"] == str(profile)
    assert train.parameters["metric"] == "macro_f1"


def _backfill_command(home):
    return [
        sys.executable,
        "-m",
        "sentiment_cli",
        "backfill",
        "--home",
        str(home),
        "--from",
        "2015-02-17",
        "--to",
        "2015-02-20",
        "--json",
        "--chunk-days",
        "2",
    ]


def test_backfill_killed_midway_resumes_to_identical_tables(tmp_path, tiny_model):
    reference = _lake(tmp_path / "ref", tiny_model)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    ref = subprocess.run(_backfill_command(reference.root), env=env, capture_output=True, text=True, timeout=300)
    assert ref.returncode == 0, ref.stderr[-3000:]

    wh = _lake(tmp_path / "killed", tiny_model)
    process = subprocess.Popen(
        _backfill_command(wh.root),
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((wh.manifests / "score").glob("*.json")):
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the whole process group, Prefect's server too
    process.wait()
    done_before = len(list((wh.manifests / "score").glob("*.json")))
    assert 1 <= done_before < 4, "the backfill should have been killed midway"

    resumed = subprocess.run(
        _backfill_command(wh.root), env=env, check=True, capture_output=True, text=True, timeout=300
    )
    summary = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert len(summary["skipped"]) == done_before and len(summary["done"]) == 4 - done_before
    for a, b in zip(_tables(reference), _tables(wh), strict=True):
        assert_frame_equal(
            a.drop(columns=["model_version"], errors="ignore"),
            b.drop(columns=["model_version"], errors="ignore"),
            check_exact=True,
        )


def test_nightly_cli_runs_the_flow_with_its_options(tmp_path, tiny_model):
    wh = _lake(tmp_path, tiny_model)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sentiment_cli",
            "nightly",
            "--home",
            str(wh.root),
            "--data-dir",
            str(tmp_path / "data"),
            "--day",
            "2015-02-18",
            "--timezone",
            "Europe/Berlin",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["day"] == "2015-02-18" and result["backfill"]["done"] == ["2015-02-18"]
    assert [s["source"] for s in result["ingest"]] == ["twitter", "reddit_worldnews"]


def test_backfill_options_are_declared_once():
    import dataclasses

    from typer.testing import CliRunner

    from flows.backfill import BackfillJob
    from sentiment_cli import app

    helped = CliRunner().invoke(app, ["backfill", "--help"])
    assert helped.exit_code == 0, helped.output
    flags = [f.metadata["flag"] or "--" + f.name.replace("_", "-") for f in dataclasses.fields(BackfillJob)]
    assert len(flags) == 10 and all(flag in helped.output for flag in flags)
    assert inspect.signature(backfill_flow.fn).parameters.keys() >= {f.name for f in dataclasses.fields(BackfillJob)}
    with pytest.raises(ValueError, match="at least 1"):
        BackfillJob(home="wh", start="2015-02-17", end="2015-02-18", chunk_days=0)
