"""The batch path: a table of raw records cleaned with pyarrow.compute, a column at a time.

`clean_columns` returns the rows it can vouch for, exactly as the per-record path
(`ingestion.clean.to_row`) would make them, and the positions of the others: those go
through the per-record path, which either repairs them the same way or quarantines them
with its reason. Nothing here decides a quarantine reason, so both paths always agree.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.fields import as_paths, is_plain
from ingestion.ids import content_hashes, make_doc_ids
from ingestion.records import _EPOCH_MS_THRESHOLD, _TERMINAL, INVISIBLE_CLASS
from ingestion.sources import FIELD_SETTINGS, OPTIONAL_FIELDS, PARSED, SourceSpec

# Python's whitespace (str.isspace, re's \s, str.strip), spelled for RE2 and for utf8_trim (a test
# checks it against str.isspace).
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
_SPACE_RUN = _SPACE_CLASS + "+"
# Text that whitespace cleaning changes: whitespace other than a space, two in a row, or at an end.
_UNTIDY = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE if c != " ") + "]|  |^ | $"
_BLANK = "^" + _SPACE_CLASS + "*$"
_SECONDS_RANGE = (-62135596800, 253402300799)  # 0001-01-01 .. 9999-12-31: what Python's datetime holds
_ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}[T ](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d$"
_ISO_ZONED = _ISO_NAIVE[:-1] + r"[+-](?:[01]\d|2[0-3]):[0-5]\d$"
_INVISIBLE = INVISIBLE_CLASS  # rows holding these go per record, where their removal is counted
_UNTIDY_OR_INVISIBLE = _UNTIDY + "|" + _INVISIBLE
_ENDS_SENTENCE = (
    "("
    + "|".join(_TERMINAL).replace(".", "\\.").replace("?", "\\?")
    + ")["
    + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE)
    + "]*$"
)
_TEXTUAL = (pa.types.is_string, pa.types.is_large_string, pa.types.is_null)


@dataclass
class Columns:
    rows: pa.Table  # RAW_SCHEMA columns with `lang` possibly null (identified at the merge)
    accepted: np.ndarray  # positions in the input table of `rows`, ascending
    deferred: np.ndarray  # positions the per-record path must handle, ascending
    found: dict[str, int]  # per optional field setting, the rows where it holds a value


def eligible(table: pa.Table, spec: SourceSpec) -> bool:
    """Whether the batch path can clean this table's columns (else every row goes per record)."""
    if spec.html or spec.unescape or spec.shape:
        return False
    if not all(is_plain(as_paths(getattr(spec, name))) for name in FIELD_SETTINGS):
        return False  # dotted paths and lists of fallbacks are followed per record
    types = {name: table.schema.field(name).type for name in table.column_names}
    textual = (spec.text_field, *spec.text_fallbacks, spec.title_field, spec.lang_field)
    if any(name in types and not _is(types[name], _TEXTUAL) for name in textual if name):
        return False  # e.g. a number where the text should be: quarantined per record, with the reason
    if any(
        name in types and not (_is(types[name], _TEXTUAL) or pa.types.is_integer(types[name]))
        for name in (spec.id_field, spec.author_field, spec.url_field, spec.kind_field, spec.ref_field)
        if name
    ):
        return False
    if spec.score_field in types and not (
        pa.types.is_integer(types[spec.score_field]) or pa.types.is_floating(types[spec.score_field])
    ):
        return False  # a score as text: read per record, where what is not a number is left empty
    kind = types.get(spec.time_field)
    if kind is None or _is(kind, _TEXTUAL) or pa.types.is_integer(kind):
        return True
    if pa.types.is_timestamp(kind):  # naive times are in the source's zone: only UTC is a plain cast
        return kind.unit in ("s", "ms", "us") and (kind.tz is not None or spec.timezone == "UTC")
    return False


def _is(kind: pa.DataType, tests) -> bool:
    return any(test(kind) for test in tests)


def _column(table: pa.Table, name: str | None) -> pa.Array:
    if name and name in table.column_names:
        column = table.column(name).combine_chunks()
        return column.cast(pa.string()) if not pa.types.is_string(column.type) else column
    return pa.nulls(table.num_rows, pa.string())


def _blank(values: pa.Array) -> pa.Array:
    """True where the value is null or only whitespace."""
    return pc.fill_null(pc.match_substring_regex(values, _BLANK), True)


def _stripped(values: pa.Array) -> pa.Array:
    """`optional_str`: whitespace stripped, empty as null."""
    values = pc.utf8_trim(values, WHITESPACE)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def clean_text(values: pa.Array) -> pa.Array:
    """`records.clean_text` of every value (NFC, whitespace runs to one space, stripped); "" where empty."""
    return clean_text_flagged(values)[0]


def clean_text_flagged(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """`clean_text`, and where a value holds invisible characters (the per-record path removes and
    counts them): one regular-expression pass finds both untidy and invisible rows."""
    non_ascii = pc.invert(pc.fill_null(pc.string_is_ascii(values), True))
    if pc.any(non_ascii).as_py():
        # Python's NFC, not pc.utf8_normalize: that leaves "e" + U+0301 decomposed (pyarrow 25).
        odd = pc.take(values, pc.indices_nonzero(non_ascii)).to_pylist()
        values = pc.replace_with_mask(
            values, non_ascii, pa.array([unicodedata.normalize("NFC", v) for v in odd], pa.string())
        )
    invisible = pa.repeat(pa.scalar(False), len(values))
    untidy = pc.fill_null(pc.match_substring_regex(values, _UNTIDY_OR_INVISIBLE), False)
    if pc.any(untidy).as_py():  # replacing is 10x slower than matching: only where needed
        suspects = pc.filter(values, untidy)
        invisible = pc.replace_with_mask(
            invisible, untidy, pc.fill_null(pc.match_substring_regex(suspects, _INVISIBLE), False)
        )
        tidied = pc.replace_substring_regex(suspects, _SPACE_RUN, " ")
        values = pc.replace_with_mask(values, untidy, pc.utf8_trim(tidied, " "))
    return values, invisible


def _timestamps(table: pa.Table, spec: SourceSpec) -> pa.Array:
    """UTC microseconds where the batch path parses the value exactly as `parse_timestamp`; else null."""
    utc = pa.timestamp("us", tz="UTC")
    if spec.time_field not in table.column_names:
        return pa.nulls(table.num_rows, utc)
    column = table.column(spec.time_field).combine_chunks()
    kind = column.type
    if pa.types.is_timestamp(kind):
        return column.cast(pa.timestamp(kind.unit, tz=kind.tz or "UTC")).cast(utc)
    if pa.types.is_integer(kind):
        values = column.cast(pa.int64())
        millis = pc.greater(pc.abs(values), int(_EPOCH_MS_THRESHOLD))
        seconds = pc.if_else(millis, pc.divide(values, 1000), values)
        ok = pc.and_(pc.greater_equal(seconds, _SECONDS_RANGE[0]), pc.less_equal(seconds, _SECONDS_RANGE[1]))
        micros = pc.if_else(millis, pc.multiply(values, 1000), pc.multiply(values, 1_000_000))
        return pc.if_else(ok, micros, pa.scalar(None, pa.int64())).cast(utc)
    text = pc.replace_substring(pc.utf8_trim(_column(table, spec.time_field), WHITESPACE), "Z", "+00:00")
    # Only the common ISO-8601 shapes, where Arrow's parser and datetime.fromisoformat agree; the rest
    # (fractions of seconds, epoch text, other zones' naive times) are parsed per record.
    zoned = pc.if_else(pc.match_substring_regex(text, _ISO_ZONED), text, pa.scalar(None, pa.string()))
    parsed = pc.strptime(pc.replace_substring(zoned, " ", "T"), "%Y-%m-%dT%H:%M:%S%z", "us", error_is_null=True)
    if spec.timezone == "UTC":
        naive = pc.if_else(pc.match_substring_regex(text, _ISO_NAIVE), text, pa.scalar(None, pa.string()))
        naive = pc.strptime(pc.replace_substring(naive, " ", "T"), "%Y-%m-%dT%H:%M:%S", "us", error_is_null=True)
        parsed = pc.coalesce(parsed.cast(utc), naive.cast(pa.timestamp("us")).cast(utc))
    return parsed.cast(utc)


def _scores(table: pa.Table, name: str | None) -> pa.Array:
    """The source's own score as float64 (NaN and infinities as null, as the per-record path does)."""
    if not name or name not in table.column_names:
        return pa.nulls(table.num_rows, pa.float64())
    values = table.column(name).combine_chunks().cast(pa.float64())
    return pc.if_else(pc.is_finite(values), values, pa.scalar(None, pa.float64()))


def clean_columns(table: pa.Table, spec: SourceSpec, now: datetime) -> Columns:
    """The rows of `table` the batch path cleans, and the positions it leaves to the per-record path."""
    n = table.num_rows
    body = _column(table, spec.text_field)
    for fallback in spec.text_fallbacks:
        body = pc.if_else(_blank(body), _column(table, fallback), body)
    title = _stripped(_column(table, spec.title_field)) if spec.title_field else pa.nulls(n, pa.string())
    if spec.combine_title:
        ends = pc.fill_null(pc.match_substring_regex(title, _ENDS_SENTENCE), False)
        separator = pc.if_else(ends, pa.scalar(" "), pa.scalar(". "))
        joined = pc.binary_join_element_wise(title, separator, body, "")
        body = pc.if_else(
            pc.and_(pc.is_valid(title), _blank(body)), title, pc.if_else(pc.is_valid(title), joined, body)
        )
    text, invisible = clean_text_flagged(body)
    clean_title, invisible_title = clean_text_flagged(title) if spec.title_field else (None, None)
    published = _timestamps(table, spec)
    ok = pc.and_(pc.fill_null(pc.not_equal(text, ""), False), pc.is_valid(published))
    ok = pc.and_(ok, pc.invert(invisible if invisible_title is None else pc.or_(invisible, invisible_title)))
    accepted = pc.indices_nonzero(ok)
    deferred = pc.indices_nonzero(pc.invert(ok)).to_numpy()
    everything = len(deferred) == 0

    def kept(values: pa.Array) -> pa.Array:
        return values if everything else pc.take(values, accepted)

    text = kept(text)
    hashes = content_hashes(text)
    native = _stripped(kept(_column(table, spec.id_field))) if spec.id_field else None
    doc_id = make_doc_ids(spec.name, native, hashes)
    lang = _stripped(kept(_column(table, spec.lang_field))) if spec.lang_field else pa.nulls(len(accepted), pa.string())
    if not spec.detect_lang:
        lang = pc.fill_null(lang, spec.default_lang)
    m = len(accepted)

    def kind_column(name: str | None) -> pa.Array:
        return kept(_stripped(_column(table, name))) if name else pa.nulls(m, pa.string())

    rows = pa.table(
        {
            "doc_id": doc_id,
            "source": pa.repeat(pa.scalar(spec.name, pa.string()), m),
            "published_at": kept(published),
            "text": text,
            "title": kept(clean_title) if spec.title_field else pa.nulls(m, pa.string()),
            "author": kept(_stripped(_column(table, spec.author_field)))
            if spec.author_field
            else pa.nulls(m, pa.string()),
            "url": kept(_stripped(_column(table, spec.url_field))) if spec.url_field else pa.nulls(m, pa.string()),
            "lang": lang,
            "kind": kind_column(spec.kind_field),
            "ref_id": kind_column(spec.ref_field),
            "source_score": kept(_scores(table, spec.score_field)),
            "content_hash": hashes,
            "ingested_at": pa.repeat(pa.scalar(now, pa.timestamp("us", tz="UTC")), m),
        }
    )
    return Columns(rows, accepted.to_numpy(), deferred, found_in(table, spec))


def found_in(table: pa.Table, spec: SourceSpec) -> dict[str, int]:
    """Per optional field setting, the rows where it holds a value (see `clean.OPTIONAL_FIELDS`)."""
    found = {PARSED: table.num_rows}
    for name in OPTIONAL_FIELDS:
        column = getattr(spec, name)
        if column:
            found[name] = table.num_rows - table.column(column).null_count if column in table.column_names else 0
    return found
