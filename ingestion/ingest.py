"""Ingest one source into `raw/`: clean, dedup, quarantine, write partitions idempotently."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from ingestion.language import detect_language
from ingestion.records import (
    RecordError,
    clean_text,
    content_hash,
    html_to_text,
    make_doc_id,
    optional_str,
    parse_timestamp,
    repair_text,
    storable,
)
from ingestion.schema import QUARANTINE_SCHEMA, RAW_SCHEMA
from ingestion.sources import InputError, RawRecord, SourceSpec, input_files, read_file
from sentiment.warehouse import PART_FILE, Warehouse, write_file_atomic, write_partition

log = logging.getLogger(__name__)
CHARS_REPLACED = "_chars_replaced"  # to_row's count of repaired characters, popped before storing


CHUNK_RECORDS = 100_000  # records held in memory before they are merged into partitions


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
    errors: list[dict] = field(default_factory=list)  # input files that could not be read to the end

    @property
    def reconciles(self) -> bool:
        return self.read == self.written + self.duplicates + self.quarantined + self.out_of_range

    def as_dict(self) -> dict:
        return asdict(self)


def ingest_source(
    spec: SourceSpec, warehouse: Warehouse, now: datetime | None = None, chunk_records: int = CHUNK_RECORDS,
    progress: bool = False, start: date | None = None, end: date | None = None,
) -> IngestSummary:
    """Ingest every record of `spec`; re-running with the same input changes nothing.

    Records stream through in chunks of `chunk_records`, so memory stays bounded by the
    chunk, not the input. A file that cannot be read to its end is reported in
    `errors` (its earlier records are kept) and the other files are still ingested.
    """
    now = now or datetime.now(UTC)
    summary = IngestSummary(spec.name)
    by_day: dict[str, dict[str, dict]] = defaultdict(dict)
    texts_by_day: dict[str, set[str]] = defaultdict(set)
    rejected: dict[str, list[dict]] = defaultdict(list)
    pending = 0
    bar = tqdm(desc=f"ingest {spec.name}", unit=" records", disable=not progress, mininterval=1.0)
    for path, records in _inputs(spec, warehouse):
        rejected.setdefault(str(path), [])
        try:
            for record in records:
                summary.read += 1
                pending += 1
                try:
                    row = to_row(record, spec, now)
                except RecordError as err:
                    rejected[record.input].append(_quarantine_row(spec, record, str(err), now))
                    summary.chars_replaced += record.replaced
                else:
                    summary.chars_replaced += row.pop(CHARS_REPLACED)
                    when = row["published_at"].date()
                    if (start and when < start) or (end and when > end):
                        summary.out_of_range += 1
                        continue
                    day = when.isoformat()
                    day_rows, day_texts = by_day[day], texts_by_day[day]
                    if row["doc_id"] in day_rows or (spec.dedup_text and row["content_hash"] in day_texts):
                        summary.duplicates += 1
                    else:
                        day_rows[row["doc_id"]] = row
                        day_texts.add(row["content_hash"])
                if pending >= chunk_records:
                    _flush(warehouse, spec, by_day, summary)
                    texts_by_day.clear()
                    bar.update(pending)
                    pending = 0
        except InputError as err:
            # The unread rest of the file is quarantined as one record, so it shows in the table.
            log.error("%s", err)
            summary.errors.append({"input": str(path), "error": str(err)})
            summary.read += 1
            rest = RawRecord(-1, None, str(err), raw=None, input=str(path))
            rejected[str(path)].append(_quarantine_row(spec, rest, f"unreadable rest of file: {err}", now))
    _flush(warehouse, spec, by_day, summary)
    bar.update(pending)
    bar.close()
    for input_path, rows in rejected.items():
        _write_quarantine(warehouse, spec.name, input_path, rows)
    summary.quarantined = sum(len(rows) for rows in rejected.values())
    if summary.chars_replaced:
        log.warning("%s: %d characters were stored as U+FFFD (bytes not valid in the files' encoding %r, or lone "
                    "surrogates in JSON text); if the files are not %s, set encoding = \"auto\" or their encoding "
                    "(e.g. cp1252)", spec.name, summary.chars_replaced, spec.encoding, spec.encoding)
    if not summary.reconciles:  # a bug, never bad input
        raise AssertionError(f"ingest counts do not reconcile: {summary}")
    log.info(
        "ingested %s: read %d = written %d + duplicates %d + quarantined %d%s",
        spec.name, summary.read, summary.written, summary.duplicates, summary.quarantined,
        f" ({len(summary.errors)} file(s) not read to the end)" if summary.errors else "",
    )
    return summary


def _inputs(spec: SourceSpec, warehouse: Warehouse):
    """(location, records) for each input of the source: dump files, or one feed."""
    if spec.format == "feed":
        from ingestion.feeds import read_feed

        state = warehouse.root / "state" / "feeds"
        cap = min(spec.max_bytes, 256 * 2**20)
        yield str(spec.path), read_feed(spec, state, spec.http_timeout, cap, spec.http_retries)
        return
    for path in input_files(spec):
        yield str(path), read_file(path, spec)


def _flush(warehouse: Warehouse, spec: SourceSpec, by_day: dict, summary: IngestSummary) -> None:
    for day, rows in sorted(by_day.items()):
        written, duplicates = _merge_partition(warehouse, spec, day, rows)
        summary.written += written
        summary.duplicates += duplicates
        summary.partitions_written += int(written > 0)
    by_day.clear()


def to_row(record: RawRecord, spec: SourceSpec, now: datetime) -> dict:
    """A RAW_SCHEMA row from one record, or RecordError with the reason."""
    if record.fields is None:
        raise RecordError(record.error or "unreadable record")
    fields = record.fields
    body = fields.get(spec.text_field)
    for fallback in spec.text_fallbacks:
        if body is None or (isinstance(body, str) and not body.strip()):
            body = fields.get(fallback)
    title = optional_str(fields.get(spec.title_field)) if spec.title_field else None
    if spec.html:
        body = html_to_text(body) if isinstance(body, str) else body
        title = html_to_text(title) if title else title
    if spec.combine_title and title:
        body = f"{title}. {body}" if isinstance(body, str) and body.strip() else title
    replaced = 0
    if isinstance(body, str):
        body, replaced = repair_text(body)
    text = clean_text(body)
    title, fixed = repair_text(clean_text(title)) if title else (None, 0)
    author, fixed_author = _repaired(fields.get(spec.author_field) if spec.author_field else None)
    url, fixed_url = _repaired(fields.get(spec.url_field) if spec.url_field else None)
    digest = content_hash(text)
    native_id = fields.get(spec.id_field) if spec.id_field else None
    if isinstance(native_id, str):
        native_id = storable(native_id, f"id field {spec.id_field!r}")
    lang = storable(fields.get(spec.lang_field), f"language field {spec.lang_field!r}") if spec.lang_field else None
    if lang is None and spec.detect_lang:
        lang = detect_language(text)
        lang = None if lang == "und" else lang
    return {
        "doc_id": make_doc_id(spec.name, native_id, digest),
        "source": spec.name,
        "published_at": parse_timestamp(fields.get(spec.time_field), spec.timezone),
        "text": text,
        "title": title,
        "author": author,
        "url": url,
        "lang": lang or spec.default_lang,
        "content_hash": digest,
        "ingested_at": now,
        CHARS_REPLACED: replaced + fixed + fixed_author + fixed_url + record.replaced,
    }


def _repaired(value: object) -> tuple[str | None, int]:
    text = optional_str(value)
    return repair_text(text) if text is not None else (None, 0)


def _merge_partition(warehouse: Warehouse, spec: SourceSpec, day: str, rows: dict[str, dict]) -> tuple[int, int]:
    """Add the rows not stored yet (by id, and by text when the source says so) to the day's
    partition; return (written, duplicates)."""
    directory = warehouse.raw_partition(spec.name, day)
    existing = pq.read_table(directory / PART_FILE) if (directory / PART_FILE).exists() else None
    stored = set(existing.column("doc_id").to_pylist()) if existing is not None else set()
    check_texts = existing is not None and spec.dedup_text
    stored_texts = set(existing.column("content_hash").to_pylist()) if check_texts else set()
    new = [row for doc_id, row in rows.items() if doc_id not in stored and row["content_hash"] not in stored_texts]
    if not new:
        return 0, len(rows)
    table = pa.Table.from_pylist(new, schema=RAW_SCHEMA)
    if existing is not None:
        table = pa.concat_tables([existing.cast(RAW_SCHEMA), table])
    write_partition(table.sort_by("doc_id"), directory)
    return len(new), len(rows) - len(new)


def _quarantine_row(spec: SourceSpec, record: RawRecord, reason: str, now: datetime) -> dict:
    raw = record.raw if record.fields is None else json.dumps(record.fields, default=str)
    return {  # the quarantine keeps everything, so what UTF-8 cannot hold is replaced, not refused
        "source": spec.name,
        "input": repair_text(record.input)[0],
        "record": record.number,
        "reason": repair_text(reason)[0],
        "raw": repair_text(raw)[0] if raw is not None else None,
        "quarantined_at": now,
    }


def _write_quarantine(warehouse: Warehouse, source: str, input_path: str, rows: list[dict]) -> None:
    """One file per input, replaced on every run, so re-runs never repeat quarantine rows."""
    key = hashlib.sha1(str(Path(input_path).resolve()).encode()).hexdigest()[:12]
    path = warehouse.quarantine / f"source={source}" / f"input-{key}.parquet"
    if not rows:
        path.unlink(missing_ok=True)
        return
    write_file_atomic(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)
