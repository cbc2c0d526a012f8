"""One small scored warehouse for the web page's tests (the API tests add alerts to it)."""

import pytest

from pipelines.score import ScoreJob, score_range
from tests.factories import make_lake


@pytest.fixture(scope="package")
def scored_lake(tmp_path_factory, tiny_model):
    wh = make_lake(tmp_path_factory.mktemp("ui"), tiny_model)
    score_range(ScoreJob(home=wh.root, start="2015-02-17", end="2015-02-20"))
    return wh
