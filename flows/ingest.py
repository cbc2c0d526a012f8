"""The ingest flow: each configured source is one task, retried on I/O errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow

from flows.tasks import ingest_all
from ingestion.config import specs_for


@flow(name="ingest")
def ingest_flow(
    home: str | Path,
    config: Path | None = None,
    data_dir: Path | None = None,
    sources: list[str] | None = None,
    input: str | None = None,
    preset: str = "generic",
    format: str | None = None,
    published_at: str | None = None,
    start: date | None = None,
    end: date | None = None,
    beam: bool = False,
    profile: Path | None = None,
) -> list[dict]:
    """The same choices as `sentiment ingest`: a sources file, one --input, or the demo's corpora;
    `beam` runs each source as a Beam job (on the `profile`'s runner when given)."""
    specs = specs_for(config, data_dir, sources, input, preset, format=format, published_at=published_at)
    summaries = ingest_all(specs, home, start=start, end=end, beam=beam, profile=profile)
    failed = [s["source"] for s in summaries if s["errors"]]
    if failed:  # after every source ran: the run is marked failed, naming them
        raise RuntimeError(
            f"ingest failed for source(s) {failed}: " + "; ".join(e["error"] for s in summaries for e in s["errors"])
        )
    return summaries
