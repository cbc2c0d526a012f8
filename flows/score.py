"""The score flow: one Beam job over a date range (see pipelines.score)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow

from flows.tasks import score_task


@flow(name="score")
def score_flow(
    home: str | Path,
    start: date,
    end: date,
    sources: list[str] | None = None,
    beam_args: list[str] | None = None,
    profile: Path | None = None,
) -> dict:
    """`profile`: a runner profile (infra/runners/*.yaml); one naming a job server starts it for the job."""
    return score_task(home, start, end, sources=sources, beam_args=beam_args, profile=profile).as_dict()
