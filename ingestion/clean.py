"""Raw input to clean rows: a block of JSONL or a Parquet batch through the batch path, the rest
record by record; quarantined records keep their reason.

Every function here returns a `Cleaned` for one piece of one input file; the ingest loop
(and the Beam job) stage its rows by day and merge them into partitions.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ingestion.columnar import clean_columns, eligible
from ingestion.fields import as_paths, blank, describe_keys, first
from ingestion.ids import content_hash, make_doc_id
from ingestion.readers import jsonl_record
from ingestion.records import (
    RecordError,
    clean_text,
    html_to_text,
    join_title,
    optional_str,
    parse_timestamp,
    remove_invisible,
    repair_text,
    storable,
    unescape_entities,
)
from ingestion.schema import STAGE_SCHEMA, order_key
from ingestion.sources import OPTIONAL_FIELDS, PARSED, RawRecord, SourceSpec

MIN_SPLIT_LINES = 64  # a rejected block is halved down to this many lines, then read record by record


@dataclass
class Window:
    start: date | None = None
    end: date | None = None

    def mask(self, published: pa.Array) -> pa.Array | None:
        """True for timestamps inside the window; None when there is no window."""
        if self.start is None and self.end is None:
            return None
        days = published.cast(pa.date32())
        inside = pa.repeat(pa.scalar(True), len(published))
        if self.start:
            inside = pc.and_(inside, pc.greater_equal(days, pa.scalar(self.start, pa.date32())))
        if self.end:
            inside = pc.and_(inside, pc.less_equal(days, pa.scalar(self.end, pa.date32())))
        return inside

    def holds(self, when: date) -> bool:
        return not ((self.start and when < self.start) or (self.end and when > self.end))


@dataclass
class Fixes:
    """Characters changed while cleaning, counted per source."""

    replaced: int = 0  # stored as U+FFFD: undecodable bytes, lone surrogates
    entities: int = 0  # HTML entities decoded (&amp; -> &), where the source escapes them
    invisible: int = 0  # byte-order marks and zero-width spaces removed


@dataclass
class Cleaned:
    rows: pa.Table  # STAGE_SCHEMA
    quarantined: list[dict] = field(default_factory=list)  # QUARANTINE_SCHEMA rows
    read: int = 0
    out_of_range: int = 0
    chars_replaced: int = 0
    entities_decoded: int = 0
    chars_removed: int = 0
    found: dict[str, int] = field(default_factory=dict)  # per optional field setting: records where it matched
    keys: str = ""  # the top-level keys of a parsed record, for the warning about a field that matched nothing

    @staticmethod
    def combine(parts: list[Cleaned]) -> Cleaned:
        if not parts:
            return Cleaned(STAGE_SCHEMA.empty_table())
        return Cleaned(
            pa.concat_tables([p.rows for p in parts]),
            [row for p in parts for row in p.quarantined],
            sum(p.read for p in parts),
            sum(p.out_of_range for p in parts),
            sum(p.chars_replaced for p in parts),
            sum(p.entities_decoded for p in parts),
            sum(p.chars_removed for p in parts),
            add_found(*(p.found for p in parts)),
            next((p.keys for p in parts if p.keys), ""),
        )


def add_found(*counts: dict[str, int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for count in counts:
        for key, value in count.items():
            total[key] = total.get(key, 0) + value
    return total


def clean_records(
    records: Iterable[RawRecord], spec: SourceSpec, now: datetime, window: Window, file_index: int
) -> Cleaned:
    """The per-record path: each record through `to_row`, or to the quarantine with the reason."""
    rows, quarantined, read, out_of_range = [], [], 0, 0
    fixes = Fixes()
    optional = [(name, as_paths(getattr(spec, name))) for name in OPTIONAL_FIELDS if getattr(spec, name)]
    found = {PARSED: 0, **{name: 0 for name, _ in optional}}
    keys = ""
    for record in records:
        read += 1
        if record.fields is not None:
            found[PARSED] += 1
            keys = keys or describe_keys(record.fields)
            for name, paths in optional:
                found[name] += not blank(first(record.fields, paths))
        try:
            row, fixed = to_row(record, spec, now)
        except RecordError as err:
            quarantined.append(quarantine_row(spec, record, str(err), now))
            fixes.replaced += record.replaced
            continue
        fixes.replaced += fixed.replaced
        fixes.entities += fixed.entities
        fixes.invisible += fixed.invisible
        if not window.holds(row["published_at"].date()):
            out_of_range += 1
            continue
        row["_order"] = order_key(file_index, record.number)
        rows.append(row)
    return Cleaned(
        pa.Table.from_pylist(rows, schema=STAGE_SCHEMA),
        quarantined,
        read,
        out_of_range,
        fixes.replaced,
        fixes.entities,
        fixes.invisible,
        found,
        keys,
    )


def clean_table(
    table: pa.Table, first: int, records, spec: SourceSpec, now: datetime, window: Window, file_index: int
) -> Cleaned:
    """Rows of a parsed table through the batch path; `records(positions)` gives the RawRecords of
    the rows it leaves to the per-record path."""
    columns = clean_columns(table, spec, now)
    fast = columns.rows
    orders = pa.array(order_key(file_index, first) + columns.accepted, pa.int64())
    fast = fast.append_column("_order", orders)
    out_of_range = 0
    inside = window.mask(fast.column("published_at"))
    if inside is not None:
        out_of_range = len(fast) - pc.sum(inside).as_py() if len(fast) else 0
        fast = fast.filter(inside)
    slow = (
        clean_records(records(columns.deferred), spec, now, window, file_index)
        if len(columns.deferred)
        else Cleaned(STAGE_SCHEMA.empty_table())
    )
    return Cleaned(
        pa.concat_tables([fast.cast(STAGE_SCHEMA), slow.rows]),
        slow.quarantined,
        table.num_rows,
        out_of_range + slow.out_of_range,
        slow.chars_replaced,
        slow.entities_decoded,
        slow.chars_removed,
        columns.found,
        ", ".join(table.column_names[:12]),
    )


def clean_jsonl_block(
    data: bytes, first: int, name: str, spec: SourceSpec, now: datetime, window: Window, file_index: int
) -> Cleaned:
    """The records of `data` (whole UTF-8 JSONL lines, the first being line `first` of the file)."""
    lines = data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)
    table = _parse_jsonl(data, lines)
    if table is not None and eligible(table, spec):

        def records(positions):
            split = data.split(b"\n")
            return (jsonl_record(split[i], first + i, name) for i in positions.tolist())

        return clean_table(table, first, records, spec, now, window, file_index)
    if lines <= MIN_SPLIT_LINES:
        split = data.split(b"\n")[:lines]
        return clean_records(
            (jsonl_record(line, first + i, name) for i, line in enumerate(split)), spec, now, window, file_index
        )
    middle = data.find(b"\n", len(data) // 2)
    if middle < 0 or middle + 1 >= len(data):
        middle = data.find(b"\n")
    head = data[: middle + 1]
    return Cleaned.combine(
        [
            clean_jsonl_block(head, first, name, spec, now, window, file_index),
            clean_jsonl_block(data[middle + 1 :], first + head.count(b"\n"), name, spec, now, window, file_index),
        ]
    )


def _parse_jsonl(data: bytes, lines: int) -> pa.Table | None:
    """The block as a table when pyarrow reads every line as one valid-UTF-8 object; else None."""
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=max(1 << 20, len(data) // 4)))
        table.validate(full=True)  # pyarrow does not check UTF-8 while parsing
    except (pa.ArrowInvalid, UnicodeDecodeError):  # malformed JSON, a lone surrogate, mixed types
        return None
    return table if table.num_rows == lines else None  # pyarrow skips blank lines; we quarantine them


def to_row(record: RawRecord, spec: SourceSpec, now: datetime) -> tuple[dict, Fixes]:
    """A RAW_SCHEMA row from one record and the characters its cleaning changed, or RecordError with
    the reason. The language is left empty (identified for the new rows at the merge) unless the
    record carries one or identification is off."""
    if record.fields is None:
        raise RecordError(record.error or "unreadable record")
    fields = record.fields
    text_paths = (spec.text_field, *spec.text_fallbacks)
    body = first(fields, text_paths)
    title = optional_str(first(fields, as_paths(spec.title_field))) if spec.title_field else None
    fixes = Fixes(replaced=record.replaced)
    if spec.html:
        body = html_to_text(body) if isinstance(body, str) else body
        title = html_to_text(title) if title else title
    elif spec.unescape:
        body, fixes.entities = unescape_entities(body) if isinstance(body, str) else (body, 0)
        title, decoded = unescape_entities(title) if title else (title, 0)
        fixes.entities += decoded
    if spec.combine_title and title:
        body = join_title(title, body) if isinstance(body, str) and body.strip() else title
    if body is None:
        raise RecordError(f"missing text: looked for {', '.join(text_paths)}; record has {describe_keys(fields)}")
    if isinstance(body, str):
        body, fixes.replaced = repair_text(body)
        fixes.replaced += record.replaced
        body, fixes.invisible = remove_invisible(body)
    text = clean_text(body)
    if title:
        title, removed = remove_invisible(title)
        title, fixed = repair_text(title)
        title = optional_str(_clean_or_none(title))
        fixes.replaced, fixes.invisible = fixes.replaced + fixed, fixes.invisible + removed
    author, fixed_author = _repaired(first(fields, as_paths(spec.author_field)) if spec.author_field else None)
    url, fixed_url = _repaired(first(fields, as_paths(spec.url_field)) if spec.url_field else None)
    kind, _ = _repaired(first(fields, as_paths(spec.kind_field)) if spec.kind_field else None)
    ref_id, _ = _repaired(first(fields, as_paths(spec.ref_field)) if spec.ref_field else None)
    score = _number(first(fields, as_paths(spec.score_field))) if spec.score_field else None
    fixes.replaced += fixed_author + fixed_url
    digest = content_hash(text)
    native_id = first(fields, as_paths(spec.id_field)) if spec.id_field else None
    if isinstance(native_id, str):
        native_id = storable(native_id, f"id field {spec.id_field!r}")
    lang = (
        storable(first(fields, as_paths(spec.lang_field)), f"language field {spec.lang_field!r}")
        if spec.lang_field
        else None
    )
    time_paths = as_paths(spec.time_field)
    when = first(fields, time_paths)
    if blank(when):
        if spec.published_at is None:
            raise RecordError(
                f"missing timestamp: looked for {', '.join(time_paths)}; record has "
                f"{describe_keys(fields)} (an undated corpus can be given a time: published_at)"
            )
        when = spec.published_at
    row = {
        "doc_id": make_doc_id(spec.name, native_id, digest),
        "source": spec.name,
        "published_at": parse_timestamp(when, spec.timezone),
        "text": text,
        "title": title,
        "author": author,
        "url": url,
        "lang": lang if lang or spec.detect_lang else spec.default_lang,
        "kind": kind,
        "ref_id": ref_id,
        "source_score": score,
        "content_hash": digest,
        "ingested_at": now,
    }
    return row, fixes


def _number(value: object) -> float | None:
    """A finite number, or None (the source's score is kept when it is one, never guessed)."""
    try:
        number = float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None
    return number if number is not None and math.isfinite(number) else None


def _clean_or_none(value: str) -> str | None:
    try:
        return clean_text(value)
    except RecordError:
        return None


def _repaired(value: object) -> tuple[str | None, int]:
    text = optional_str(value)
    return repair_text(text) if text is not None else (None, 0)


def quarantine_row(spec: SourceSpec, record: RawRecord, reason: str, now: datetime) -> dict:
    raw = record.raw if record.fields is None else json.dumps(record.fields, default=str)
    return {  # the quarantine keeps everything, so what UTF-8 cannot hold is replaced, not refused
        "source": spec.name,
        "input": repair_text(record.input)[0],
        "record": record.number,
        "reason": repair_text(reason)[0],
        "raw": repair_text(raw)[0] if raw is not None else None,
        "quarantined_at": now,
    }


UNREADABLE = "unreadable rest of file: "


def unreadable_rest(spec: SourceSpec, location: str, err: Exception, now: datetime) -> dict:
    """The quarantine row standing for the part of a file that could not be read."""
    rest = RawRecord(-1, None, str(err), raw=None, input=str(location))
    return quarantine_row(spec, rest, f"{UNREADABLE}{err}", now)
