"""A warehouse at s3:// on a real S3 server (versitygw): the commands that read and write it."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sentiment.storage import StorageError, location
from sentiment.warehouse import Warehouse
from sentiment_cli import app
from tests.factories import make_lake

pytestmark = pytest.mark.s3
runner = CliRunner()


def _tweets(path: Path, n: int = 40, start: int = 0) -> Path:
    with path.open("w") as out:
        for i in range(start, start + n):
            day = 17 + i % 3
            word = ["love it, great crew", "awful delay, hate this", "flight at noon"][i % 3]
            out.write(json.dumps({"id": str(i), "text": f"{word} #{i}", "created_at": f"2015-02-{day}T10:00:00Z"}))
            out.write("\n")
    return path


def _objects(home: str) -> dict[str, bytes]:
    root = location(home)
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _upload(local: Path, home: str) -> None:
    """Copy a local warehouse's files to the object store, as `aws s3 sync` would."""
    root = location(home)
    for path in sorted(local.rglob("*")):
        if path.is_file() and not path.is_symlink() and "cache" not in path.parts:
            (root / path.relative_to(local).as_posix()).write_bytes(path.read_bytes())


def test_ingest_into_s3_reconciles_and_a_rerun_changes_no_object(s3_home, tmp_path):
    dump = _tweets(tmp_path / "t.jsonl")
    args = ["ingest", "--home", s3_home, "--input", str(dump), "--source", "tw", "--preset", "twitter", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["read"] == 40 and summary["written"] == 40 and summary["quarantined"] == 0
    objects = _objects(s3_home)
    raw = sorted(k for k in objects if "/raw/" in k)
    assert [k.split("/raw/")[1] for k in raw] == [
        f"source=tw/date=2015-02-{d}/part-0.parquet" for d in (17, 18, 19)
    ]  # one object per partition, nothing left aside
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["duplicates"] == 40
    assert _objects(s3_home) == objects  # byte-identical

    more = runner.invoke(app, [*args[:4], str(_tweets(tmp_path / "u.jsonl", 10, 35)), *args[5:], "--workers", "2"])
    assert more.exit_code == 0, more.output
    assert json.loads(more.stdout.strip().splitlines()[-1])["written"] == 5  # only the new ids
    counted = runner.invoke(
        app, ["query", "--home", s3_home, "SELECT count(*) AS n FROM documents", "--format", "json"]
    )
    assert counted.exit_code == 0, counted.output
    assert json.loads(counted.stdout)[0]["n"] == 45


def test_models_import_list_and_predict_from_s3(s3_home, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path / "cache"))
    imported = runner.invoke(app, ["models", "import", str(tiny_model), "--current", "--home", s3_home])
    assert imported.exit_code == 0, imported.output
    version = json.loads((tiny_model / "model.json").read_text())["version"]
    wh = Warehouse(s3_home)
    assert (wh.models / "CURRENT").read_text() == version and (wh.models / version / "weights.pt").is_file()
    listed = runner.invoke(app, ["models", "list", "--home", s3_home, "--json"])
    rows = [json.loads(line) for line in listed.stdout.strip().splitlines()]
    assert [(r["version"], r["current"]) for r in rows] == [(version, True)]
    predicted = runner.invoke(app, ["predict", "--home", s3_home, "--json", "love great thanks", "hate awful"])
    assert predicted.exit_code == 0, predicted.output
    assert [json.loads(line)["label"] for line in predicted.stdout.strip().splitlines()] == ["positive", "negative"]
    local = wh.current_model()
    assert local.is_relative_to(tmp_path / "cache") and (local / "weights.pt").is_file()  # downloaded once


def test_query_and_trend_read_the_tables_on_s3_as_they_read_them_locally(s3_home, tiny_model, tmp_path):
    lake = make_lake(tmp_path, tiny_model)
    (lake.root / "topics.toml").write_text('[topics.crew]\nkeywords = ["crew"]\n')
    score = ["score", "--home", str(lake.root), "--from", "2015-02-17", "--to", "2015-02-20", "--runner=FnApiRunner"]
    assert runner.invoke(app, score).exit_code == 0
    _upload(lake.root, s3_home)
    for args in (
        ["trend", "--source", "twitter", "--format", "json"],
        ["trend", "--topic", "crew", "--by", "week", "--format", "json"],
        ["query", "SELECT d.source, count(*) n, sum(s.score) s FROM scored s JOIN documents d USING (doc_id) "
                  "GROUP BY d.source ORDER BY 1", "--format", "json"],
        ["query", "SELECT any_value(typeof(date)) t, min(date) d, count(*) n FROM daily_sentiment", "--format", "json"],
    ):  # fmt: skip
        local = runner.invoke(app, [*args, "--home", str(lake.root)])
        remote = runner.invoke(app, [*args, "--home", s3_home])
        assert local.exit_code == 0 and remote.exit_code == 0, remote.output
        assert json.loads(remote.stdout) == json.loads(local.stdout) != []


def test_s3_without_credentials_or_server_says_what_to_do(s3_server, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID"):
        location("s3://test/x")
    result = runner.invoke(app, ["query", "--home", "s3://test/x", "SELECT 1"])
    assert result.exit_code != 0 and "AWS_ACCESS_KEY_ID" in result.output and "Traceback" not in result.output

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")  # nothing listens there
    result = runner.invoke(app, ["models", "list", "--home", "s3://test/x"])
    assert result.exit_code != 0 and "127.0.0.1:9" in result.output and "Traceback" not in result.output


def test_local_warehouses_keep_their_layout(tmp_path, tiny_model):
    wh = Warehouse(tmp_path / "wh")
    wh.models.mkdir(parents=True)
    shutil.copytree(tiny_model, wh.models / "v1")
    wh.set_current_model(wh.models / "v1")
    assert (wh.models / "current").is_symlink() and wh.current_model() == (wh.models / "v1").resolve()
    assert wh.staging == wh.root / "state" / "staging" and not wh.remote


def _tables(root) -> dict[str, list]:
    """Every table of a warehouse, rows sorted, as Python values (partition columns from the paths)."""
    from sentiment.query import has_table, run_query

    wh = Warehouse(root)
    out = {}
    for name in ("scored", "daily_sentiment", "hourly_sentiment", "daily_topic_sentiment"):
        if not has_table(wh, name):
            continue
        frame = run_query(wh, f"SELECT * EXCLUDE (model_version) FROM {name}")
        out[name] = sorted(map(repr, frame.astype(str).to_dict("records")))
    return out


def test_scoring_an_s3_warehouse_writes_the_same_tables_as_a_local_one(s3_home, tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path / "cache"))
    lake = make_lake(tmp_path, tiny_model)
    (lake.root / "topics.toml").write_text('[topics.crew]\nkeywords = ["crew"]\n')
    _upload(lake.root, s3_home)  # raw partitions, the model, topics
    assert runner.invoke(app, ["models", "import", str(tiny_model), "--current", "--home", s3_home]).exit_code == 0
    score = ["score", "--from", "2015-02-17", "--to", "2015-02-20", "--runner=FnApiRunner", "--json"]
    local = runner.invoke(app, [*score, "--home", str(lake.root), "--model", str(tiny_model)])
    remote = runner.invoke(app, [*score, "--home", s3_home])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.output
    counters = [json.loads(r.stdout.strip().splitlines()[-1])["counters"] for r in (local, remote)]
    assert counters[0] == counters[1] and counters[1]["documents_scored"] == 71
    assert _tables(s3_home) == _tables(lake.root)
    manifest = json.loads((location(s3_home) / "manifests" / "score" / "date=2015-02-18.json").read_text())
    assert {o["path"].split("/")[0] for o in manifest["outputs"]} == {"scored", "aggregates"}
    assert all((location(s3_home) / o["path"]).stat().st_size == o["bytes"] for o in manifest["outputs"])

    again = runner.invoke(app, [*score, "--home", s3_home])  # a re-run replaces, never appends
    assert again.exit_code == 0 and _tables(s3_home) == _tables(lake.root)

    # the web page's API answers the same from S3 as from local disk, explanations included
    from fastapi.testclient import TestClient

    from sentiment_ui.app import create_app

    pages = [TestClient(create_app(Warehouse(home))) for home in (lake.root, s3_home)]
    trends = [page.get("/api/trend?by=hour&source=twitter").json() for page in pages]
    assert trends[0] == trends[1] and len(trends[1]["series"][0]["rows"]) > 4
    runs = [[{**r, "written_at": None} for r in page.get("/api/runs").json()["runs"]] for page in pages]
    assert runs[0] == runs[1] and runs[1][0]["scored"] == 71
    window = {"start": "2015-02-18T00:00:00Z", "end": "2015-02-19T00:00:00Z"}
    docs = [page.get("/api/documents", params=window).json() for page in pages]
    assert docs[0] == docs[1] and docs[1]["total"] > 0
    first = docs[1]["rows"][0]
    why = pages[1].get("/api/explain", params={k: first[k] for k in ("doc_id", "date", "source")})
    assert why.status_code == 200 and why.json()["text"] == first["text"], why.text


@pytest.mark.slow
def test_the_demo_flow_runs_on_s3_and_trend_answers_from_there(
    prefect_harness, s3_home, demo_data, tmp_path, monkeypatch
):
    from flows.demo import demo_flow
    from tests.factories import TINY_TRAIN

    monkeypatch.setenv("SENTIMENT_CACHE", str(tmp_path / "cache"))
    result = demo_flow(s3_home, demo_data, TINY_TRAIN)
    counters = result["score"]["counters"]
    assert counters["documents_read"] == counters["documents_scored"] == 71
    assert result["model"].startswith(s3_home) and result["chart"].startswith(s3_home)
    wh = Warehouse(s3_home)
    assert (wh.reports / "daily_sentiment.png").stat().st_size > 10_000
    assert wh.current_version_dir().name == result["model"].split("/")[-1]
    trend = runner.invoke(app, ["trend", "--source", "twitter", "--home", s3_home, "--format", "json"])
    assert trend.exit_code == 0 and len(json.loads(trend.stdout)) >= 4, trend.output
    objects = _objects(s3_home)
    again = demo_flow(s3_home, demo_data, TINY_TRAIN)  # a second run: nothing retrained, the same tables
    assert not again["model_trained"]
    changed = {k for k, v in _objects(s3_home).items() if objects.get(k) != v}
    assert all("/manifests/" in k or "/reports/" in k or k.endswith("/model.json") or "/quarantine/" in k
               for k in changed), changed  # fmt: skip


def test_ingest_with_beam_into_s3_gives_the_objects_the_local_ingest_gives(s3_home, tmp_path):
    dump = _tweets(tmp_path / "t.jsonl", 60)
    args = ["ingest", "--input", str(dump), "--source", "tw", "--preset", "twitter", "--json"]
    local = runner.invoke(app, [*args, "--home", str(tmp_path / "wh")])
    beam = runner.invoke(app, [*args, "--home", s3_home, "--beam"])
    assert local.exit_code == 0 and beam.exit_code == 0, beam.output
    assert json.loads(beam.stdout.strip().splitlines()[-1])["written"] == 60
    query = "SELECT * EXCLUDE (ingested_at) FROM documents ORDER BY doc_id"
    tables = [
        runner.invoke(app, ["query", query, "--format", "json", "--home", h]) for h in (str(tmp_path / "wh"), s3_home)
    ]
    assert json.loads(tables[0].stdout) == json.loads(tables[1].stdout)


def _s3_lake(tmp_path, tiny_model, s3_home) -> Warehouse:
    """The factory lake, scored locally (the reference), and its raw partitions and model put on S3."""
    lake = make_lake(tmp_path, tiny_model)
    for name in ("raw", "quarantine"):
        _upload(lake.root / name, f"{s3_home}/{name}")
    assert runner.invoke(app, ["models", "import", str(tiny_model), "--current", "--home", s3_home]).exit_code == 0
    score = ["score", "--home", str(lake.root), "--from", "2015-02-17", "--to", "2015-02-20", "--runner=FnApiRunner"]
    assert runner.invoke(app, score).exit_code == 0
    return lake


def _backfill(home: str, start: str, end: str, env: dict) -> subprocess.Popen:
    command = [sys.executable, "-m", "sentiment_cli", "backfill", "--home", home, "--from", start, "--to", end,
               "--json", "--chunk-days", "1"]  # fmt: skip
    return subprocess.Popen(command, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


@pytest.mark.slow
def test_backfills_on_s3_concurrent_and_killed_lose_nothing(s3_home, tiny_model, tmp_path):
    lake = _s3_lake(tmp_path, tiny_model, s3_home)
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "SENTIMENT_CACHE": str(tmp_path / "cache")}
    wh = Warehouse(s3_home)

    # kill -9 once the first day is complete: what is there stays readable, the same command completes it
    killed = _backfill(s3_home, "2015-02-17", "2015-02-20", env)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list((wh.manifests / "score").glob("*.json")):
        time.sleep(0.05)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    done_before = len(list((wh.manifests / "score").glob("*.json")))
    assert 1 <= done_before < 4, "the backfill should have been killed midway"
    readable = runner.invoke(app, ["query", "--home", s3_home, "SELECT count(*) n FROM scored", "--format", "json"])
    assert readable.exit_code == 0 and json.loads(readable.stdout)[0]["n"] > 0

    # two backfills at once on the rest, each its own days: both finish, nothing lost, nothing twice
    first = _backfill(s3_home, "2015-02-17", "2015-02-18", env)
    second = _backfill(s3_home, "2015-02-19", "2015-02-20", env)
    for process in (first, second):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
    assert _tables(s3_home) == _tables(lake.root)
    assert len(list((wh.manifests / "score").glob("*.json"))) == 4


def test_a_table_whose_newer_partitions_have_more_columns_reads_whole_from_s3(s3_home):
    import pyarrow as pa

    from sentiment.query import run_query
    from sentiment.warehouse import write_partition

    wh = Warehouse(s3_home)
    write_partition(pa.table({"doc_id": ["a"], "text": ["old"]}), wh.raw_partition("s", "2015-01-01"))
    write_partition(
        pa.table({"doc_id": ["b"], "text": ["new"], "kind": ["reply"]}), wh.raw_partition("s", "2015-01-02")
    )
    rows = run_query(wh, "SELECT doc_id, kind, date, source FROM documents ORDER BY doc_id").to_dict("records")
    assert [
        (r["doc_id"], r["kind"] if isinstance(r["kind"], str) else None, str(r["date"])[:10], r["source"]) for r in rows
    ] == [
        ("a", None, "2015-01-01", "s"),
        ("b", "reply", "2015-01-02", "s"),
    ]
