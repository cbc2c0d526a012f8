"""The scoring job through Beam's Job API (the one Flink's and Spark's job servers speak),
against Beam's own local job service on localhost."""

import subprocess
import sys
import time

import pytest
from pandas.testing import assert_frame_equal

from pipelines.jobserver import free_port, listening
from pipelines.score import ScoreJob, score_range
from sentiment.query import run_query
from sentiment.warehouse import Warehouse
from tests.factories import make_lake

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def job_endpoint():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if listening(port):
            break
        time.sleep(0.2)
    else:
        process.kill()
        pytest.fail("Beam's local job service did not start within 60 s")
    yield f"localhost:{port}"
    process.terminate()
    process.wait(timeout=10)


def _warehouse(root, tiny_model) -> Warehouse:
    return make_lake(root, tiny_model)


def test_portable_runner_gives_the_same_tables_as_the_local_runner(job_endpoint, tmp_path, tiny_model):
    local, portable = _warehouse(tmp_path / "a", tiny_model), _warehouse(tmp_path / "b", tiny_model)
    args = ["--runner=PortableRunner", f"--job_endpoint={job_endpoint}", "--environment_type=LOOPBACK"]
    summary = score_range(ScoreJob(home=portable.root, start="2015-02-17", end="2015-02-20", beam_args=args))
    score_range(ScoreJob(home=local.root, start="2015-02-17", end="2015-02-20"))
    assert summary.counters["documents_scored"] == 71
    for table in ("scored", "daily_sentiment", "hourly_sentiment"):
        sql = f"SELECT * FROM {table} ORDER BY ALL"
        assert_frame_equal(run_query(local, sql), run_query(portable, sql), check_exact=True)
