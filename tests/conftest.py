from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")

# Everything the suite and what it starts write to a temp dir (Beam's staging, Flink's and Spark's
# JVMs, Prefect, torch, pytest's own tmp_path) goes under one folder, removed when the session ends.
SESSION_TMP = Path(tempfile.mkdtemp(prefix="sentiment-tests-"))
os.environ["TMPDIR"] = tempfile.tempdir = str(SESSION_TMP)
os.environ["JAVA_TOOL_OPTIONS"] = f"{os.environ.get('JAVA_TOOL_OPTIONS', '')} -Djava.io.tmpdir={SESSION_TMP}".strip()
# Removed at exit, after the exit handlers registered later (Prefect's test server cleans its own dir in there).
atexit.register(shutil.rmtree, SESSION_TMP, ignore_errors=True)

from tests.factories import TINY_TRAIN, write_demo_data, write_labelled_dir  # noqa: E402

# Tests never read the real datasets directory: by default they see a tiny one of their own.
os.environ["SENTIMENT_DATA_DIR"] = str(write_demo_data(Path(tempfile.mkdtemp(prefix="sentiment-test-data-"))))


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes seconds to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def s3_server():
    """A real S3 server (versitygw) for the session, its objects under the session's temp dir."""
    from sentiment.s3server import S3ServerMissingError, start

    try:
        server = start(SESSION_TMP / "s3-data", log=SESSION_TMP / "s3-server.log")
    except S3ServerMissingError as err:
        pytest.skip(f"{err}; `make test` builds it where Go is installed")
    server.create_bucket("test")
    yield server
    server.stop()


@pytest.fixture
def s3_home(s3_server, monkeypatch, request) -> str:
    """A fresh s3:// warehouse prefix for one test, with the standard variables pointing at the server."""
    import re

    for name, value in s3_server.env().items():
        monkeypatch.setenv(name, value)
    prefix = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:60]
    return f"s3://test/{prefix}"


@pytest.fixture(scope="session")
def labelled_dir(tmp_path_factory) -> Path:
    return write_labelled_dir(tmp_path_factory.mktemp("labelled"))


@pytest.fixture(scope="session")
def tiny_model(labelled_dir, tmp_path_factory) -> Path:
    """A small model trained once per session on the labelled factory data."""
    from sentiment_model.train import TrainConfig, train

    out = tmp_path_factory.mktemp("model") / "m"
    return train(TrainConfig(data=labelled_dir, out=out, seed=3, **TINY_TRAIN))


@pytest.fixture
def demo_data(tmp_path) -> Path:
    return write_demo_data(tmp_path / "data")
