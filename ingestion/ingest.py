"""Ingest one source into `raw/`: clean, dedup, quarantine, write partitions idempotently."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.records import (
    RecordError,
    clean_text,
    content_hash,
    make_doc_id,
    optional_str,
    parse_timestamp,
)
from ingestion.schema import QUARANTINE_SCHEMA, RAW_SCHEMA
from ingestion.sources import RawRecord, SourceSpec, read_records
from sentiment.warehouse import PART_FILE, Warehouse, write_file_atomic, write_partition

log = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    source: str
    read: int = 0
    written: int = 0  # new documents stored by this run
    duplicates: int = 0  # same doc_id seen earlier in this run or already stored
    quarantined: int = 0
    partitions_written: int = 0

    @property
    def reconciles(self) -> bool:
        return self.read == self.written + self.duplicates + self.quarantined

    def as_dict(self) -> dict:
        return asdict(self)


def ingest_source(spec: SourceSpec, warehouse: Warehouse, now: datetime | None = None) -> IngestSummary:
    """Ingest every record of `spec`; re-running with the same input changes nothing."""
    now = now or datetime.now(UTC)
    summary = IngestSummary(spec.name)
    by_day: dict[str, dict[str, dict]] = defaultdict(dict)
    rejected: list[dict] = []
    for record in read_records(spec):
        summary.read += 1
        try:
            row = to_row(record, spec, now)
        except RecordError as err:
            rejected.append(_quarantine_row(spec, record, str(err), now))
            continue
        day = row["published_at"].date().isoformat()
        if row["doc_id"] in by_day[day]:
            summary.duplicates += 1
            continue
        by_day[day][row["doc_id"]] = row
    summary.quarantined = len(rejected)
    for day, rows in sorted(by_day.items()):
        written, duplicates = _merge_partition(warehouse, spec.name, day, rows)
        summary.written += written
        summary.duplicates += duplicates
        summary.partitions_written += int(written > 0)
    _write_quarantine(warehouse, spec, rejected)
    if not summary.reconciles:  # a bug, never bad input
        raise AssertionError(f"ingest counts do not reconcile: {summary}")
    log.info(
        "ingested %s: read %d = written %d + duplicates %d + quarantined %d",
        spec.name, summary.read, summary.written, summary.duplicates, summary.quarantined,
    )
    return summary


def to_row(record: RawRecord, spec: SourceSpec, now: datetime) -> dict:
    """A RAW_SCHEMA row from one record, or RecordError with the reason."""
    if record.fields is None:
        raise RecordError(record.error or "unreadable record")
    fields = record.fields
    text = clean_text(fields.get(spec.text_field))
    title = optional_str(fields.get(spec.title_field)) if spec.title_field else None
    digest = content_hash(text)
    native_id = fields.get(spec.id_field) if spec.id_field else None
    lang = optional_str(fields.get(spec.lang_field)) if spec.lang_field else None
    return {
        "doc_id": make_doc_id(spec.name, native_id, digest),
        "source": spec.name,
        "published_at": parse_timestamp(fields.get(spec.time_field), spec.timezone),
        "text": text,
        "title": title,
        "author": optional_str(fields.get(spec.author_field)) if spec.author_field else None,
        "url": optional_str(fields.get(spec.url_field)) if spec.url_field else None,
        "lang": lang or spec.default_lang,
        "content_hash": digest,
        "ingested_at": now,
    }


def _merge_partition(
    warehouse: Warehouse, source: str, day: str, rows: dict[str, dict]
) -> tuple[int, int]:
    """Add the rows not stored yet to the day's partition; return (written, duplicates)."""
    directory = warehouse.raw_partition(source, day)
    existing = pq.read_table(directory / PART_FILE) if (directory / PART_FILE).exists() else None
    stored = set(existing.column("doc_id").to_pylist()) if existing is not None else set()
    new = [row for doc_id, row in rows.items() if doc_id not in stored]
    if not new:
        return 0, len(rows)
    table = pa.Table.from_pylist(new, schema=RAW_SCHEMA)
    if existing is not None:
        table = pa.concat_tables([existing.cast(RAW_SCHEMA), table])
    write_partition(table.sort_by("doc_id"), directory)
    return len(new), len(rows) - len(new)


def _quarantine_row(spec: SourceSpec, record: RawRecord, reason: str, now: datetime) -> dict:
    raw = record.raw if record.fields is None else json.dumps(record.fields, default=str)
    return {
        "source": spec.name,
        "input": str(spec.path),
        "record": record.number,
        "reason": reason,
        "raw": raw,
        "quarantined_at": now,
    }


def _write_quarantine(warehouse: Warehouse, spec: SourceSpec, rows: list[dict]) -> None:
    """One file per input, replaced on every run, so re-runs never repeat quarantine rows."""
    key = hashlib.sha1(str(spec.path.resolve()).encode()).hexdigest()[:12]
    path = warehouse.quarantine / f"source={spec.name}" / f"input-{key}.parquet"
    if not rows:
        path.unlink(missing_ok=True)
        return
    write_file_atomic(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)
