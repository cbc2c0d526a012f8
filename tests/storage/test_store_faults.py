"""Faults of the warehouse's store end a run with one line saying what failed, where and what to do,
and leave the last complete state readable: a full disk (a small tmpfs) and an S3 server stopped mid-run."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sentiment.s3server import start
from sentiment.storage import location
from sentiment.warehouse import Warehouse
from tests.storage.test_s3_warehouse import _s3_lake, _tables

SENTIMENT = [sys.executable, "-m", "sentiment_cli"]


def _tweets(path: Path, n: int, words: int) -> Path:
    with path.open("w") as out:
        for i in range(n):
            text = f"post {i} " + " ".join(f"w{(i * 31 + j) % 9973}" for j in range(words))
            out.write(json.dumps({"id": str(i), "text": text, "created_at": f"2015-02-{10 + i % 15}T10:00:00Z"}) + "\n")
    return path


def _can_mount() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_mount(), reason="needs `unshare -m` and tmpfs mounts (root, or a user namespace)")
def test_a_full_disk_ends_the_ingest_with_one_line_and_the_other_source_stays(tmp_path):
    small = _tweets(tmp_path / "small.jsonl", 50, 3)
    big = _tweets(tmp_path / "big.jsonl", 40_000, 40)
    config = tmp_path / "sources.toml"
    config.write_text(
        f'[sources.small]\npreset = "twitter"\npath = "{small}"\n[sources.big]\npreset = "twitter"\npath = "{big}"\n'
    )
    home = tmp_path / "wh"
    home.mkdir()
    script = (
        f"mount -t tmpfs -o size=1500k none {home} && "
        f"{' '.join(SENTIMENT)} ingest --home {home} --config {config} --json > {tmp_path}/out.json 2> {tmp_path}/err; "
        f"echo $? > {tmp_path}/rc; "
        f"{' '.join(SENTIMENT)} query --home {home} 'SELECT source, count(*) n FROM documents GROUP BY ALL' "
        f"--format json > {tmp_path}/after.json"
    )  # the tmpfs lives as long as the namespace: everything is checked inside it
    subprocess.run(["unshare", "-m", "sh", "-c", script], check=True, timeout=300, env=os.environ)
    assert (tmp_path / "rc").read_text().strip() == "1"
    summary = json.loads((tmp_path / "out.json").read_text().strip().splitlines()[-1])
    errors = [e["error"] for e in summary["errors"]]
    assert len(errors) == 1 and errors[0].startswith("no space left on the device") and str(home) in errors[0]
    assert "free space" in errors[0] and "Traceback" not in (tmp_path / "err").read_text()
    assert json.loads((tmp_path / "after.json").read_text()) == [{"source": "small", "n": 50}]  # intact, readable


@pytest.mark.s3
@pytest.mark.slow
def test_an_s3_server_stopped_mid_backfill_ends_it_with_one_line_and_the_rerun_completes(
    s3_server, tiny_model, tmp_path, monkeypatch
):
    own = start(tmp_path / "objects", log=tmp_path / "s3.log")  # a server of this test's own, to stop
    env = {**os.environ, **own.env(), "PREFECT_HOME": str(tmp_path / "prefect"), "SENTIMENT_CACHE": str(tmp_path / "c")}
    for name, value in own.env().items():
        monkeypatch.setenv(name, value)
    own.create_bucket("faults")
    home = "s3://faults/wh"
    lake = _s3_lake(tmp_path, tiny_model, home)
    days = ["--from", "2015-02-17", "--to", "2015-02-20", "--chunk-days", "1"]
    command = [*SENTIMENT, "backfill", "--home", home, *days]
    quick = {**env, "AWS_MAX_ATTEMPTS": "1"}  # no retries of each request against a server that is gone
    process = subprocess.Popen(command, env=quick, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    manifests = tmp_path / "objects" / "faults" / "wh" / "manifests" / "score"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(manifests.glob("*.json")):
        time.sleep(0.05)
    own.stop()  # the store goes away mid-run
    out, err = process.communicate(timeout=300)
    assert process.returncode != 0
    # Prefect logs each task's failure as it happens; the command ends with one line per cause
    causes = [line for line in err.splitlines() if line.startswith("  failed ")]
    assert len(causes) == 1 and "cannot reach the object store" in causes[0], err[-3000:]
    assert own.endpoint in causes[0] and "make s3-up" in causes[0]

    back = start(tmp_path / "objects", port=int(own.endpoint.rsplit(":", 1)[1]), log=tmp_path / "s3.log")
    try:
        done = len(list(manifests.glob("*.json")))
        rerun = subprocess.run([*command, "--json"], env=env, capture_output=True, text=True, timeout=300)
        assert rerun.returncode == 0, rerun.stderr[-3000:]
        assert len(json.loads(rerun.stdout.strip().splitlines()[-1])["skipped"]) == done
        assert _tables(home) == _tables(lake.root)
        assert Warehouse(home).root == location(home)
    finally:
        back.stop()


@pytest.mark.s3
def test_refused_credentials_and_a_missing_bucket_say_so(s3_server, monkeypatch):
    from typer.testing import CliRunner

    from sentiment_cli import app

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")  # a wrong or expired key
    refused = CliRunner().invoke(app, ["models", "list", "--home", "s3://test/x"])
    assert refused.exit_code == 1 and "refused the" in refused.output, refused.output
    assert "AWS_SECRET_ACCESS_KEY" in refused.output and "Traceback" not in refused.output

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.env()["AWS_SECRET_ACCESS_KEY"])
    missing = CliRunner().invoke(app, ["query", "--home", "s3://no-such-bucket/x", "SELECT 1"])
    assert missing.exit_code == 1 and "bucket 'no-such-bucket' does not exist" in missing.output, missing.output
