"""Prefect deployments of the flows: nightly on a cron schedule, backfill and train on demand.

`register()` records them with the Prefect API (a server, or Cloud); `serve()` runs them
in this process on a single machine. infra/prefect.yaml defines the same deployments for a
Prefect work pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from prefect import serve as prefect_serve
from prefect.schedules import Cron

from flows.backfill import backfill_flow
from flows.nightly import nightly_flow
from flows.train import train_flow


@dataclass(frozen=True)
class DeployConfig:
    home: str | Path  # the warehouse the flows work on
    data_dir: Path  # the datasets directory (sources to ingest, training data)
    cron: str = "0 2 * * *"  # nightly at 02:00 ...
    timezone: str = "UTC"  # ... in this time zone
    lag_days: int = 1  # the nightly run scores the day that ended this many days ago
    profile: Path | None = None  # runner profile for the nightly and backfill scoring (infra/runners/*.yaml)


def build_deployments(config: DeployConfig) -> list:
    home, data = str(config.home), str(config.data_dir)
    runner = {"profile": str(Path(config.profile).resolve())} if config.profile else {}
    nightly = nightly_flow.to_deployment(
        name="nightly",
        schedules=[Cron(config.cron, timezone=config.timezone)],
        parameters={"home": home, "data_dir": data, "timezone": config.timezone, "lag_days": config.lag_days, **runner},
        description="Ingest, score the day that just ended (catching up missed days), run the checks.",
    )
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    backfill = backfill_flow.to_deployment(
        name="backfill",
        parameters={"home": home, "start": yesterday, "end": yesterday, "max_concurrency": 1, **runner},
        description="Score a date range; days already complete for the current model are skipped.",
    )
    train = train_flow.to_deployment(
        name="train",
        parameters={"home": home, "data": str(Path(data) / "airline_tweets"), "metric": "macro_f1"},
        description="Train a candidate model and promote it if it is at least as good as the current one.",
    )
    return [nightly, backfill, train]


def register(config: DeployConfig) -> list[str]:
    """Create or update the deployments in the Prefect API; returns their ids."""
    return [str(deployment.apply()) for deployment in build_deployments(config)]


def serve(config: DeployConfig) -> None:
    """Run the deployments from this process until interrupted (single machine)."""
    prefect_serve(*build_deployments(config))
