"""Ingest one source into `raw/`: clean, dedup, quarantine, write partitions idempotently."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from tqdm.auto import tqdm

from ingestion.clean import Window, add_found, unreadable_rest
from ingestion.diagnose import input_warnings
from ingestion.inputs import input_tasks
from ingestion.merge import DayStage, write_quarantine
from ingestion.parallel import Piece, pool_for
from ingestion.sources import InputError, SourceSpec, input_files, is_url
from sentiment.storage import describe_store_error
from sentiment.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    source: str
    read: int = 0
    written: int = 0  # new documents stored by this run
    duplicates: int = 0  # same doc_id seen earlier in this run or already stored
    quarantined: int = 0
    partitions_written: int = 0
    out_of_range: int = 0  # records dated outside the requested window (not stored, not lost: still in the input)
    chars_replaced: int = 0  # characters stored as U+FFFD: undecodable bytes, lone surrogates
    entities_decoded: int = 0  # HTML entities decoded (&amp; -> &) where the source escapes its text
    chars_removed: int = 0  # byte-order marks and zero-width spaces removed from texts and titles
    errors: list[dict] = field(default_factory=list)  # inputs that could not be read (to the end, or at all)
    warnings: list[str] = field(default_factory=list)  # field paths that matched nothing, inputs mostly quarantined

    @property
    def reconciles(self) -> bool:
        return self.read == self.written + self.duplicates + self.quarantined + self.out_of_range

    def as_dict(self) -> dict:
        return asdict(self)

    def counts(self) -> dict:
        """The counts and errors, without the warnings (which only the local path gives, per input)."""
        return {k: v for k, v in self.as_dict().items() if k != "warnings"}


def ingest_source(
    spec: SourceSpec,
    warehouse: Warehouse,
    now: datetime | None = None,
    progress: bool = False,
    start: date | None = None,
    end: date | None = None,
    workers: int | None = None,
) -> IngestSummary:
    """Ingest every record of `spec`; re-running with the same input changes nothing.

    Inputs are cleaned a block at a time and their rows staged on disk, then each day is merged
    into its partition: memory stays bounded by a few blocks and one day, not the input. `workers`
    processes clean blocks and merge days
    side by side (default: one per core when the input is large, see `parallel.pool_for`). A
    file that cannot be read to its end is reported in `errors` (its earlier records are kept)
    and the other files are still ingested.
    """
    now = now or datetime.now(UTC)
    summary = IngestSummary(spec.name)
    window = Window(start, end)
    inputs = locations(spec)
    stage = DayStage(warehouse.staging)
    bar = tqdm(desc=f"ingest {spec.name}", unit=" records", disable=not progress, mininterval=1.0)
    with pool_for(inputs, workers) as pool:
        try:
            for file_index, location in enumerate(inputs):
                quarantined: list[dict] = []
                found: dict[str, int] = {}
                keys, read_before = "", summary.read
                tasks = input_tasks(location, spec, file_index, warehouse.feed_state)
                try:
                    for piece in pool.clean(tasks, spec, now, window, stage):
                        _count(summary, piece)
                        stage.add(piece.path, piece.days)
                        quarantined += piece.quarantined
                        found, keys = add_found(found, piece.found), keys or piece.keys
                        bar.update(piece.read)
                except InputError as err:
                    # The unread rest of the file is quarantined as one record, so it shows in the table.
                    log.error("%s", err)
                    summary.errors.append({"input": str(location), "error": str(err)})
                    summary.read += 1
                    quarantined.append(unreadable_rest(spec, str(location), err, now))
                summary.quarantined += len(quarantined)
                write_quarantine(warehouse, spec.name, str(location), quarantined)
                summary.warnings += input_warnings(
                    spec, str(location), found, keys, summary.read - read_before, quarantined
                )
            bar.close()
            days = tqdm(
                desc=f"merge {spec.name}", unit=" days", total=len(stage.days()), disable=not progress, mininterval=1.0
            )
            for written, duplicates in pool.merge(warehouse, spec, stage):
                summary.written += written
                summary.duplicates += duplicates
                summary.partitions_written += int(written > 0)
                days.update()
            days.close()
        finally:
            stage.close()
            bar.close()
    for warning in summary.warnings:
        log.warning("%s", warning)
    if summary.chars_replaced:
        log.warning(
            "%s: %d characters were stored as U+FFFD (bytes not valid in the files' encoding %r, or lone "
            'surrogates in JSON text); if the files are not %s, set encoding = "auto" or their encoding '
            "(e.g. cp1252)",
            spec.name,
            summary.chars_replaced,
            spec.encoding,
            spec.encoding,
        )
    if not summary.reconciles:  # a bug, never bad input
        raise AssertionError(f"ingest counts do not reconcile: {summary}")
    log.info(
        "ingested %s: read %d = written %d + duplicates %d + quarantined %d%s",
        spec.name,
        summary.read,
        summary.written,
        summary.duplicates,
        summary.quarantined,
        f" ({len(summary.errors)} file(s) not read to the end)" if summary.errors else "",
    )
    return summary


def locations(spec: SourceSpec) -> list[Path | str]:
    """The inputs of the source: its dump or feed files, or the feed at its URL."""
    return [spec.path] if is_url(spec.path) else input_files(spec)


def _count(summary: IngestSummary, piece: Piece) -> None:
    summary.read += piece.read
    summary.out_of_range += piece.out_of_range
    summary.chars_replaced += piece.chars_replaced
    summary.entities_decoded += piece.entities_decoded
    summary.chars_removed += piece.chars_removed


def ingest_each(specs: list[SourceSpec], ingest, home=None) -> list[IngestSummary]:
    """`ingest(spec)` for every source; a source that fails as a whole (nothing matches its path, a
    bad setting) is that source's error, reported in its summary, and the others still run."""
    summaries = []
    for spec in specs:
        try:
            summaries.append(ingest(spec))
        except (InputError, ValueError, FileNotFoundError, OSError) as err:
            message = describe_store_error(err, home) or str(err)  # a full disk, a refused write: what to do
            log.error("%s: %s", spec.name, message)
            summaries.append(IngestSummary(spec.name, errors=[{"input": str(spec.path), "error": message}]))
    return summaries
