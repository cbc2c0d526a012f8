"""Checks after a nightly run: freshness, volume anomalies and score drift, per source.

Results go to the `alerts` table (`alerts/date=<d>/part-0.parquet`, replaced per day).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa

from sentiment.query import connect
from sentiment.warehouse import Warehouse, write_partition

ALERT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("check", pa.string()),  # freshness | volume | burst | drift
        ("severity", pa.string()),  # warning | error
        ("value", pa.float64()),
        ("threshold", pa.float64()),
        ("message", pa.string()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class CheckConfig:
    window_days: int = 7  # trailing days the day is compared with
    volume_z: float = 3.0  # |z-score| of the day's document count that raises a volume alert
    drift_psi: float = 0.2  # population stability index of the day's scores that raises a drift alert
    min_documents: int = 30  # fewer documents on either side: no drift check
    hour_z: float = 6.0  # z-score of the day's busiest hour against the window's hours: a burst alert


@dataclass
class Alert:
    source: str
    check: str
    severity: str
    value: float
    threshold: float
    message: str


def population_stability_index(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """PSI of `actual` against `expected` over equal-width bins on [-1, 1]."""
    edges = np.linspace(-1.0, 1.0, bins + 1)
    e = np.histogram(np.clip(expected, -1, 1), edges)[0] / max(len(expected), 1)
    a = np.histogram(np.clip(actual, -1, 1), edges)[0] / max(len(actual), 1)
    e, a = np.clip(e, 1e-4, None), np.clip(a, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def run_checks(warehouse: Warehouse, day: date, config: CheckConfig = CheckConfig()) -> list[Alert]:
    con = connect(warehouse)
    tables = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    if "scored" not in tables:
        return []
    first = day - timedelta(days=config.window_days)
    counts = con.execute(
        "SELECT source, date, count(*) FROM scored WHERE date BETWEEN ? AND ? GROUP BY ALL", [first, day]
    ).fetchall()
    by_source: dict[str, dict[date, int]] = {}
    for source, d, n in counts:
        by_source.setdefault(source, {})[d] = n
    alerts: list[Alert] = []
    for source, per_day in sorted(by_source.items()):
        history = [per_day.get(first + timedelta(days=i), 0) for i in range(config.window_days)]
        today = per_day.get(day, 0)
        alerts += _freshness(source, today, history) + _volume(source, today, history, config)
        if today:
            if "hourly_sentiment" in tables:
                alerts += _burst(con, source, day, first, config)
            alerts += _drift(con, source, day, first, config)
    return alerts


def _freshness(source: str, today: int, history: list[int]) -> list[Alert]:
    active = sum(1 for n in history if n > 0)
    if today == 0 and active * 2 >= len(history):
        return [
            Alert(
                source,
                "freshness",
                "error",
                0.0,
                1.0,
                f"{source} has no documents today but had some on {active} of the last {len(history)} days",
            )
        ]
    return []


def _volume(source: str, today: int, history: list[int], config: CheckConfig) -> list[Alert]:
    if sum(1 for n in history if n > 0) < 3 or today == 0:
        return []
    mean, std = float(np.mean(history)), float(np.std(history, ddof=1))
    z = (today - mean) / max(std, math.sqrt(max(mean, 1.0)))  # Poisson noise as the floor of the spread
    if abs(z) > config.volume_z:
        return [
            Alert(
                source,
                "volume",
                "warning",
                round(z, 2),
                config.volume_z,
                f"{source}: {today} documents today against a mean of {mean:.0f} (z = {z:.1f})",
            )
        ]
    return []


def _burst(con, source: str, day: date, first: date, config: CheckConfig) -> list[Alert]:
    """The day's busiest hour against every hour of the window before it (hours without documents
    count as 0): a spike a whole day's count averages away."""
    rows = con.execute(
        "SELECT hour, sum(documents)::BIGINT FROM hourly_sentiment WHERE source = ? AND date BETWEEN ? AND ? "
        "GROUP BY hour",
        [source, first, day],
    ).fetchall()
    today = {h: n for h, n in rows if h.date() == day}
    before = [n for h, n in rows if h.date() < day]
    hours = (day - first).days * 24
    if not today or len({h.date() for h, _ in rows if h.date() < day}) < 3:
        return []
    history = np.array(before + [0] * (hours - len(before)), dtype=float)
    mean, std = float(history.mean()), float(history.std(ddof=1))
    peak_hour, peak = max(today.items(), key=lambda item: (item[1], item[0]))
    z = (peak - mean) / max(std, math.sqrt(max(mean, 1.0)))
    if z > config.hour_z:
        return [
            Alert(
                source,
                "burst",
                "warning",
                round(z, 2),
                config.hour_z,
                f"{source}: {peak} documents in the hour from {peak_hour:%H:%M} UTC against a mean of "
                f"{mean:.1f} an hour over the last {(day - first).days} days (z = {z:.1f})",
            )
        ]
    return []


def _drift(con, source: str, day: date, first: date, config: CheckConfig) -> list[Alert]:
    rows = con.execute(
        "SELECT date = ? AS today, score FROM scored WHERE source = ? AND date BETWEEN ? AND ? AND score IS NOT NULL",
        [day, source, first, day],
    ).fetchnumpy()
    today, scores = rows["today"].astype(bool), rows["score"].astype(float)
    if today.sum() < config.min_documents or (~today).sum() < config.min_documents:
        return []
    psi = population_stability_index(scores[~today], scores[today])
    if psi > config.drift_psi:
        return [
            Alert(
                source,
                "drift",
                "warning",
                round(psi, 3),
                config.drift_psi,
                f"{source}: score distribution moved (PSI {psi:.2f} against the last {(day - first).days} days)",
            )
        ]
    return []


def write_alerts(warehouse: Warehouse, day: date, alerts: list[Alert]) -> None:
    """Replace the day's alerts (an empty day keeps an empty file: the checks ran)."""
    now = datetime.now(UTC)
    rows = [{**asdict(a), "created_at": now} for a in alerts]
    write_partition(pa.Table.from_pylist(rows, schema=ALERT_SCHEMA), warehouse.alerts / f"date={day}")
