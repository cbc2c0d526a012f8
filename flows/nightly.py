"""The nightly flow: ingest, score the day that just ended (catching up missed days), check."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from prefect import flow, get_run_logger

from flows.backfill import backfill_flow
from flows.schedule import catch_up_range, nightly_target
from flows.tasks import checks_task, general_model_task, ingest_all, register_task
from ingestion.config import select_sources
from pipelines.manifest import read_manifest
from sentiment.settings import Settings
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint


def last_complete_day(warehouse: Warehouse, before: date, model_version: str, horizon: int = 366) -> date | None:
    """The latest day up to `before` whose manifest names `model_version` (looking `horizon` days back)."""
    for back in range(horizon):
        day = before - timedelta(days=back)
        manifest = read_manifest(warehouse, day.isoformat())
        if manifest and manifest["model_version"] == model_version:
            return day
    return None


@flow(name="nightly")
def nightly_flow(
    home: str | Path,
    data_dir: Path | None = None,
    day: date | None = None,
    config: Path | None = None,
    timezone: str = "UTC",
    lag_days: int = 1,
    max_catch_up_days: int = 31,
    beam_args: list[str] | None = None,
    profile: Path | None = None,
) -> dict:
    """Ingest the sources of `config` (or the demo's from `data_dir`), score `day` (default: the day
    that just ended in `timezone`) and any missed days before it as one backfill, then check `day`."""
    logger = get_run_logger()
    warehouse = Warehouse(home)
    target = day or nightly_target(datetime.now(UTC), timezone, lag_days)
    specs = select_sources(config, data_dir, None) if (config or data_dir) else []
    ingested = ingest_all(specs, home)  # a failing source is reported; the others are still scored
    for summary in ingested:
        for error in summary["errors"]:
            logger.warning("ingest %s: %s", summary["source"], error["error"])
    if not warehouse.has_current_model():
        logger.info("no current model: scoring with the general model (built once from the datasets directory)")
        trained, _ = general_model_task(home, data_dir or Settings.from_env().data_dir)
        register_task(trained, home, None, copy=True)
    version = checkpoint.read_meta(warehouse.current_model())["version"]
    previous = last_complete_day(warehouse, target - timedelta(days=1), version)
    start, end = catch_up_range(previous, target, max_catch_up_days)
    if start < target:
        logger.info("catching up %s..%s in one backfill", start, target)
    scored = backfill_flow(home, start, end, beam_args=beam_args, profile=profile)
    alerts = checks_task(home, target)
    for alert in alerts:
        logger.warning("alert %s/%s: %s", alert.check, alert.source, alert.message)
    return {
        "day": target.isoformat(),
        "range": [start.isoformat(), end.isoformat()],
        "ingest": ingested,
        "backfill": scored.as_dict(),
        "alerts": [asdict(a) for a in alerts],
    }
