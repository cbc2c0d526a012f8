"""The ingest flow: each configured source is one task, retried on I/O errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow

from flows.tasks import ingest_task
from ingestion.config import select_sources, source_from_preset


@flow(name="ingest")
def ingest_flow(
    home: Path,
    config: Path | None = None,
    data_dir: Path | None = None,
    sources: list[str] | None = None,
    input: str | None = None,
    preset: str = "generic",
    format: str = "auto",
    start: date | None = None,
    end: date | None = None,
    beam: bool = False,
    profile: Path | None = None,
) -> list[dict]:
    """The same choices as `sentiment ingest`: a sources file, one --input, or the demo's corpora;
    `beam` runs each source as a Beam job (on the `profile`'s runner when given)."""
    if input:
        if not sources or len(sources) != 1:
            raise ValueError("an input needs exactly one source name")
        specs = [source_from_preset(sources[0], input, preset, format=format)]
    else:
        specs = select_sources(config, data_dir, sources)
    return [ingest_task(spec, home, start, end, beam, profile).as_dict() for spec in specs]
