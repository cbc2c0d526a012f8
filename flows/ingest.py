"""The ingest flow: each configured source is one task, retried on I/O errors."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from flows.tasks import ingest_task
from ingestion.sources import demo_sources


@flow(name="ingest")
def ingest_flow(home: Path, data_dir: Path, sources: list[str] | None = None) -> list[dict]:
    specs = [s for s in demo_sources(Path(data_dir)) if not sources or s.name in sources]
    return [ingest_task(spec, home).as_dict() for spec in specs]
