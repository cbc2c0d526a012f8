"""The ingest flow: each configured source is one task, retried on I/O errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow

from flows.tasks import ingest_task
from ingestion.config import load_sources, source_from_preset
from ingestion.sources import SourceSpec, demo_sources


def select_sources(config: Path | None, data_dir: Path | None, names: list[str] | None) -> list[SourceSpec]:
    """The sources of a sources file (or the demo's, from the datasets directory), optionally by name."""
    specs = load_sources(Path(config)) if config else demo_sources(Path(data_dir)) if data_dir else []
    if not specs:
        raise ValueError("no sources: give a sources file (--config) or an input (--input)")
    if names:
        unknown = sorted(set(names) - {s.name for s in specs})
        if unknown:
            raise ValueError(f"unknown source(s) {unknown}; configured: {sorted(s.name for s in specs)}")
        specs = [s for s in specs if s.name in names]
    return specs


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
) -> list[dict]:
    """The same choices as `sentiment ingest`: a sources file, one --input, or the demo's corpora."""
    if input:
        if not sources or len(sources) != 1:
            raise ValueError("an input needs exactly one source name")
        specs = [source_from_preset(sources[0], input, preset, format=format)]
    else:
        specs = select_sources(config, data_dir, sources)
    return [ingest_task(spec, home, start, end).as_dict() for spec in specs]
