"""Date math for nightly runs and backfills: pure functions, no I/O."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


def days_between(start: date, end: date) -> list[date]:
    """Every day from start to end, both included; empty when start is after end."""
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def nightly_target(now: datetime, timezone: str = "UTC", lag_days: int = 1) -> date:
    """The day a nightly run works on: `lag_days` before today in `timezone` (1: the day that just ended)."""
    if lag_days < 0:
        raise ValueError("lag_days must be >= 0")
    return now.astimezone(ZoneInfo(timezone)).date() - timedelta(days=lag_days)


def catch_up_range(last_complete: date | None, target: date, max_days: int = 31) -> tuple[date, date]:
    """The days a nightly run must cover: after the last complete day up to the target,
    at most `max_days` back (older gaps are a job for an explicit backfill)."""
    earliest = target - timedelta(days=max_days - 1)
    start = target if last_complete is None else max(last_complete + timedelta(days=1), earliest)
    return min(start, target), target
