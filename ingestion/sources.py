"""Source definitions and readers that yield raw records from dump files."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

FORMATS = ("parquet", "jsonl", "csv")


@dataclass(frozen=True)
class SourceSpec:
    name: str  # the `source=` partition value, e.g. "twitter"
    path: Path  # a dump file
    format: str = "parquet"  # one of FORMATS
    id_field: str | None = "id"  # the record's own id; None: use a content hash
    text_field: str = "text"
    time_field: str = "published_at"
    title_field: str | None = None
    author_field: str | None = None
    url_field: str | None = None
    lang_field: str | None = None
    default_lang: str = "und"  # used when the record carries no language
    timezone: str = "UTC"  # for naive timestamps

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"source {self.name!r}: format must be one of {FORMATS}, not {self.format!r}")
        if not self.name or "/" in self.name or "=" in self.name:
            raise ValueError(f"source name {self.name!r} must be non-empty, without '/' or '='")


@dataclass(frozen=True)
class RawRecord:
    number: int  # 0-based position in the input
    fields: dict | None  # None when the record could not even be parsed
    error: str | None = None  # why it could not be parsed
    raw: str | None = None  # the unparsed text, for the quarantine


def demo_sources(data_dir: Path) -> list[SourceSpec]:
    """The two real dated corpora the demo ingests."""
    return [
        SourceSpec(
            name="twitter",
            path=data_dir / "airline_tweets" / "all.parquet",
            id_field="doc_id",
            author_field="author",
            default_lang="en",
        ),
        SourceSpec(
            name="reddit_worldnews",
            path=data_dir / "reddit_worldnews" / "all.parquet",
            id_field="doc_id",
            default_lang="en",
        ),
    ]


def read_records(spec: SourceSpec) -> Iterator[RawRecord]:
    if not spec.path.is_file():
        raise FileNotFoundError(f"source {spec.name!r}: input file not found: {spec.path}")
    reader = {"parquet": _read_parquet, "jsonl": _read_jsonl, "csv": _read_csv}[spec.format]
    yield from reader(spec.path)


def _read_parquet(path: Path) -> Iterator[RawRecord]:
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=8192):
        for fields in batch.to_pylist():
            yield RawRecord(number, fields)
            number += 1


def _read_jsonl(path: Path) -> Iterator[RawRecord]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle):
            try:
                text = line.decode("utf-8-sig" if number == 0 else "utf-8")
            except UnicodeDecodeError as err:
                yield RawRecord(number, None, f"invalid UTF-8: {err.reason}", repr(line[:2000]))
                continue
            if not text.strip():
                yield RawRecord(number, None, "blank line", text)
                continue
            try:
                fields = json.loads(text)
            except json.JSONDecodeError as err:
                yield RawRecord(number, None, f"malformed JSON: {err.msg}", text[:2000])
                continue
            if not isinstance(fields, dict):
                yield RawRecord(number, None, "JSON line is not an object", text[:2000])
                continue
            yield RawRecord(number, fields)


def _read_csv(path: Path) -> Iterator[RawRecord]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return
        for number, row in enumerate(reader):
            if len(row) != len(header):
                yield RawRecord(
                    number, None, f"CSV row has {len(row)} fields, header has {len(header)}",
                    json.dumps(row),
                )
                continue
            yield RawRecord(number, {k: (v if v != "" else None) for k, v in zip(header, row, strict=True)})
