"""Pure date math, backfill planning and the nightly checks."""

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa
import pytest

from flows.schedule import catch_up_range, days_between, nightly_target
from sentiment.checks import CheckConfig, population_stability_index, run_checks, write_alerts
from sentiment.query import run_query
from sentiment.warehouse import Warehouse, write_partition


def test_days_between():
    assert days_between(date(2024, 2, 28), date(2024, 3, 1)) == [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    assert days_between(date(2024, 3, 2), date(2024, 3, 1)) == []


def test_nightly_target_is_the_day_that_ended_in_the_time_zone():
    now = datetime(2024, 3, 10, 3, 0, tzinfo=UTC)  # 22:00 on the 9th in New York
    assert nightly_target(now, "UTC") == date(2024, 3, 9)
    assert nightly_target(now, "America/New_York") == date(2024, 3, 8)
    assert nightly_target(now, "UTC", lag_days=0) == date(2024, 3, 10)
    with pytest.raises(ValueError):
        nightly_target(now, "UTC", lag_days=-1)


def test_catch_up_covers_missed_days_once_and_is_bounded():
    assert catch_up_range(date(2024, 3, 8), date(2024, 3, 9)) == (date(2024, 3, 9), date(2024, 3, 9))
    assert catch_up_range(date(2024, 3, 1), date(2024, 3, 9)) == (date(2024, 3, 2), date(2024, 3, 9))
    assert catch_up_range(None, date(2024, 3, 9)) == (date(2024, 3, 9), date(2024, 3, 9))
    assert catch_up_range(date(2023, 1, 1), date(2024, 3, 9), max_days=5) == (date(2024, 3, 5), date(2024, 3, 9))


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(0)
    base = rng.uniform(-1, 0, 5000)
    assert population_stability_index(base, rng.uniform(-1, 0, 5000)) < 0.02
    assert population_stability_index(base, rng.uniform(0, 1, 5000)) > 1


def _scored_day(wh: Warehouse, day: str, source: str, scores: list[float]):
    rows = [{"doc_id": f"{source}:{day}:{i}", "label": "neutral", "score": s} for i, s in enumerate(scores)]
    write_partition(pa.Table.from_pylist(rows), wh.scored / f"date={day}" / f"source={source}")


def _hourly_day(wh: Warehouse, day: str, source: str, per_hour: dict[int, int]):
    rows = [
        {"hour": datetime.fromisoformat(f"{day}T{h:02d}:00:00"), "source": source, "lang": "en", "documents": n}
        for h, n in per_hour.items()
    ]
    write_partition(pa.Table.from_pylist(rows), wh.aggregate("hourly_sentiment") / f"date={day}")


def test_the_burst_check_finds_an_hour_a_day_averages_away(tmp_path):
    wh = Warehouse(tmp_path)
    rng = np.random.default_rng(2)
    for d in range(1, 9):
        day = f"2024-03-0{d}"
        _scored_day(wh, day, "shop", list(rng.uniform(-0.5, 0.5, 240)))  # the same count every day
        usual = {h: 10 for h in range(24)}
        _hourly_day(wh, day, "shop", usual if d < 8 else {**{h: 8 for h in range(24)}, 9: 58})
    alerts = run_checks(wh, date(2024, 3, 8), CheckConfig())
    assert [(a.source, a.check) for a in alerts] == [("shop", "burst")]  # no volume alert: the day is as usual
    assert "58 documents in the hour from 09:00 UTC" in alerts[0].message and alerts[0].value > 6
    _hourly_day(wh, "2024-03-08", "shop", {h: 10 for h in range(24)})
    assert run_checks(wh, date(2024, 3, 8), CheckConfig()) == []


def test_checks_find_missing_source_volume_spike_and_drift(tmp_path):
    wh = Warehouse(tmp_path)
    rng = np.random.default_rng(1)
    for d in range(1, 8):
        day = f"2024-03-0{d}"
        _scored_day(wh, day, "quiet", list(rng.uniform(-0.5, 0.5, 40)))
        _scored_day(wh, day, "spiky", list(rng.uniform(-0.5, 0.5, 40 + d)))
        _scored_day(wh, day, "steady", list(rng.uniform(-0.5, 0.5, 50)))
    _scored_day(wh, "2024-03-08", "spiky", list(rng.uniform(-0.5, 0.5, 400)))  # 10x the usual volume
    _scored_day(wh, "2024-03-08", "steady", list(rng.uniform(0.6, 1.0, 50)))  # everyone suddenly positive
    alerts = run_checks(wh, date(2024, 3, 8), CheckConfig())
    found = {(a.source, a.check) for a in alerts}
    assert found == {("quiet", "freshness"), ("spiky", "volume"), ("steady", "drift")}
    write_alerts(wh, date(2024, 3, 8), alerts)
    write_alerts(wh, date(2024, 3, 8), alerts)  # re-running the checks replaces the day's alerts
    table = run_query(wh, 'SELECT source, "check", severity FROM alerts ORDER BY source')
    assert table.values.tolist() == [
        ["quiet", "freshness", "error"],
        ["spiky", "volume", "warning"],
        ["steady", "drift", "warning"],
    ]
