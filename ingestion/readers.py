"""Records from an opened text input (see `sources.open_input`): JSONL line by line, a JSON
array element by element as the file streams, CSV row by row. Every reader says why a record
could not be read, and counts the characters its decoding replaced.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from ingestion.sources import RawRecord, SourceSpec


def read_stream(shape: str, stream, name: str, encoding: str, spec: SourceSpec | None = None) -> Iterator[RawRecord]:
    """The records of an opened input: shape csv, jsonl, json-array or json-object."""
    if shape == "csv":
        return _read_csv(stream, name, encoding, CsvLayout.of(spec, name))
    reader = {"json-array": _read_json_array, "jsonl": _read_jsonl, "json-object": _read_json_object}[shape]
    return reader(stream, name, encoding)


# Characters replaced while decoding, per thread: the "sentiment-count" error handler adds
# one per replacement (U+FFFD), so every reader can say how many characters it changed.
_replaced = threading.local()


def _count_and_replace(err: UnicodeError):
    _replaced.count = getattr(_replaced, "count", 0) + 1
    return "\ufffd", err.end


codecs.register_error("sentiment-count", _count_and_replace)
csv.field_size_limit(64 * 2**20)  # GDELT's GKG has fields of hundreds of kB (the default limit is 128 kB)


def _replacements() -> int:
    return getattr(_replaced, "count", 0)


@lru_cache(maxsize=64)
def is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _read_jsonl(stream, name: str, encoding: str = "utf-8") -> Iterator[RawRecord]:
    for number, line in enumerate(stream):
        yield jsonl_record(line, number, name, encoding)


def jsonl_record(line: bytes, number: int, name: str, encoding: str = "utf-8") -> RawRecord:
    """One JSONL line (record `number` of file `name`) as a record, or the reason it is not one.
    Invalid UTF-8 is quarantined; other encodings replace what they cannot decode, counted."""
    replaced = 0
    try:
        if is_utf8(encoding):
            text = line.decode("utf-8-sig" if number == 0 else "utf-8")
        else:
            before = _replacements()
            text = line.decode(encoding, errors="sentiment-count")
            replaced = _replacements() - before
    except UnicodeDecodeError as err:
        return RawRecord(number, None, f"invalid UTF-8: {err.reason}", repr(line[:2000]), name)
    if not text.strip():
        return RawRecord(number, None, "blank line", text, name, replaced)
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as err:
        return RawRecord(number, None, f"malformed JSON: {err.msg}", text[:2000], name, replaced)
    if not isinstance(fields, dict):
        return RawRecord(number, None, "JSON line is not an object", text[:2000], name, replaced)
    return RawRecord(number, fields, input=name, replaced=replaced)


_JSON_WHITESPACE = " \t\r\n"
MAX_ELEMENT_CHARS = 64 * 2**20  # a JSON array element longer than this is malformed, not waited for


def _read_json_array(stream, name: str, encoding: str = "utf-8") -> Iterator[RawRecord]:
    """The records of one JSON array of objects, decoded element by element as the file streams
    (memory: one chunk plus one element). Invalid bytes are replaced (counted); after malformed
    JSON the rest of the file cannot be split into records and is quarantined as one."""
    decoder = codecs.getincrementaldecoder("utf-8-sig" if is_utf8(encoding) else encoding)("sentiment-count")
    json_decoder = json.JSONDecoder()
    buffer, pos, done, number, replaced = "", 0, False, 0, 0
    state = "start"  # start: before "["; value: an element or "]"; next: "," or "]"

    def refill() -> bool:
        nonlocal buffer, pos, done, replaced
        if done:
            return False
        chunk = stream.read(1 << 20)
        done = not chunk
        before = _replacements()
        buffer = buffer[pos:] + decoder.decode(chunk, final=done)
        replaced += _replacements() - before  # given to the next record
        pos = 0
        return True

    while True:
        while True:  # skip whitespace, reading on as needed
            while pos < len(buffer) and buffer[pos] in _JSON_WHITESPACE:
                pos += 1
            if pos < len(buffer) or not refill():
                break
        if pos >= len(buffer):
            if state != "end":
                yield RawRecord(number, None, "JSON array ends before its closing ]", None, name)
            return
        char = buffer[pos]
        if state == "end":
            yield RawRecord(number, None, "content after the JSON array", buffer[pos : pos + 2000], name)
            return
        if state == "start":
            state, pos = "value", pos + 1  # the caller saw "["
            continue
        if state == "next":
            if char in ",]":
                state, pos = ("value" if char == "," else "end"), pos + 1
                continue
            yield RawRecord(
                number,
                None,
                f"malformed JSON array: expected , or ] after element {number - 1}",
                buffer[pos : pos + 2000],
                name,
            )
            return
        if char == "]" and number == 0:
            state, pos = "end", pos + 1
            continue
        try:
            value, end = json_decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as err:
            if len(buffer) - pos < MAX_ELEMENT_CHARS and refill():  # maybe the element goes on
                continue
            yield RawRecord(
                number,
                None,
                f"malformed JSON in array element {number}: {err.msg}; the rest of the file is this one record",
                buffer[pos : pos + 2000],
                name,
                replaced,
            )
            return
        if end == len(buffer) and refill():  # a number or literal may go on in the next chunk
            continue
        if isinstance(value, dict):
            yield RawRecord(number, value, input=name, replaced=replaced)
        else:
            yield RawRecord(number, None, "JSON array element is not an object", buffer[pos:end][:2000], name, replaced)
        number, pos, state, replaced = number + 1, end, "next", 0


def _read_json_object(stream, name: str, encoding: str = "utf-8") -> Iterator[RawRecord]:
    """A file that is one JSON object (a pretty-printed article, an API response): one record."""
    data = stream.read(MAX_ELEMENT_CHARS + 1)
    before = _replacements()
    text = data.decode("utf-8-sig" if is_utf8(encoding) else encoding, errors="sentiment-count")
    replaced = _replacements() - before
    if len(data) > MAX_ELEMENT_CHARS:
        yield RawRecord(0, None, f"JSON object larger than {MAX_ELEMENT_CHARS:,} bytes", text[:2000], name, replaced)
        return
    try:
        fields = json.loads(text)
    except json.JSONDecodeError as err:
        yield RawRecord(0, None, f"malformed JSON: {err.msg} (line {err.lineno})", text[:2000], name, replaced)
        return
    yield RawRecord(0, fields, input=name, replaced=replaced)


@dataclass(frozen=True)
class CsvLayout:
    delimiter: str = ","
    columns: tuple[str, ...] = ()  # given names: the file has no header line

    @staticmethod
    def of(spec: SourceSpec | None, name: str) -> CsvLayout:
        if spec is None:
            return CsvLayout()
        delimiter = spec.delimiter
        if delimiter == "," and name.lower().split("?")[0].removesuffix(".gz").endswith((".tsv", ".tab")):
            delimiter = "\t"
        return CsvLayout(delimiter, () if spec.header else spec.columns)


def _read_csv(stream, name: str, encoding: str = "utf-8", layout: CsvLayout = CsvLayout()) -> Iterator[RawRecord]:
    """CSV rows as records. With a header, blank lines before it are skipped; without one
    (`layout.columns`), every row is a record. Tab-separated files (GDELT) have quote characters
    inside fields, so only comma-separated files treat quotes as quoting."""
    codec = "utf-8-sig" if is_utf8(encoding) else encoding
    text = io.TextIOWrapper(stream, encoding=codec, errors="sentiment-count", newline="")
    counted = _replacements()
    quoting = csv.QUOTE_MINIMAL if layout.delimiter != "\t" else csv.QUOTE_NONE
    reader = csv.reader(text, delimiter=layout.delimiter, quoting=quoting)
    header = list(layout.columns)
    if not header:
        header = next((row for row in reader if any(cell.strip() for cell in row)), None)
        if header is None:
            return
        header = [column.strip().lstrip("\ufeff") for column in header]
    number = 0
    while True:
        row = next(reader, None)
        if row is None:
            return
        # Decoding runs ahead in chunks: each record gets the replacements made since the last
        # one (exact in total, approximate per record).
        replaced, counted = _replacements() - counted, _replacements()
        if len(row) != len(header):
            what = "the header has" if not layout.columns else "columns = [...] names"
            yield RawRecord(
                number,
                None,
                f"CSV row has {len(row)} fields, {what} {len(header)} (delimiter "
                f"{layout.delimiter!r}; a file without a header line needs header = false and "
                "columns = [...])",
                json.dumps(row),
                name,
                replaced,
            )
        else:
            fields = {k: (v if v != "" else None) for k, v in zip(header, row, strict=True)}
            yield RawRecord(number, fields, input=name, replaced=replaced)
        number += 1
