"""Each input of a source as a stream of cleaned pieces.

UTF-8 JSONL is read in blocks of whole lines and Parquet in batches, both through the batch
path; CSV, JSON arrays, other encodings and feeds go record by record. Either way a piece
is a `Cleaned`: rows ready to stage, and the records quarantined with their reasons.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from ingestion.clean import Cleaned, Window, clean_jsonl_block, clean_records, clean_table
from ingestion.readers import is_utf8, read_stream
from ingestion.shapes import unpack_records
from ingestion.sources import (
    RawRecord,
    SourceSpec,
    is_remote,
    is_url,
    open_input,
    parquet_batches,
    resolve_format,
    sniff_compression,
)

BLOCK_BYTES = 16 * 2**20  # JSONL bytes parsed at once by the batch path
BATCH_ROWS = 65_536  # Parquet rows cleaned at once
READ_BYTES = 1 << 20  # bytes read at a time (what a read error can lose at most)
CHUNK_RECORDS = 50_000  # records cleaned at once on the per-record path


def jsonl_blocks(stream, size: int = BLOCK_BYTES) -> Iterator[tuple[int, int, bytes]]:
    """(number of its first line, its byte offset, bytes) of consecutive blocks of whole lines. When
    reading fails (a truncated or over-size file), the whole lines read before are still given,
    then the error."""
    first, offset, buffer = 0, 0, bytearray()
    while True:
        try:
            data = stream.read(READ_BYTES)
        except Exception:
            cut = buffer.rfind(b"\n") + 1
            if cut:
                yield first, offset, bytes(buffer[:cut])
            raise
        if data:
            buffer += data
            if len(buffer) < size:
                continue
        cut = (buffer.rfind(b"\n") + 1) if data else len(buffer)
        if cut:  # else one line longer than the block: read on
            block = bytes(buffer[:cut])
            del buffer[:cut]
            yield first, offset, block
            first += block.count(b"\n")
            offset += cut
        if not data:
            return


@dataclass(frozen=True)
class Task:
    """One piece of one input, to be cleaned anywhere (this process, a worker, a Beam DoFn)."""

    kind: str  # "jsonl": whole UTF-8 lines; "batch": a Parquet record batch; "records": parsed records
    file_index: int  # the input's place among the source's inputs (orders duplicates)
    name: str  # the input file
    first: int = 0  # record number of the piece's first record in the file
    data: object = None  # bytes or (offset, length) in the file, a RecordBatch, or a list of RawRecords


def input_tasks(location: Path | str, spec: SourceSpec, file_index: int, state: Path | None = None) -> Iterator[Task]:
    """The pieces of one input (a dump file, or the feed), read in order; InputError when it cannot
    be read to its end, after the pieces read before."""
    name = str(location)
    fmt = "feed" if spec.format == "feed" or is_url(name) else resolve_format(location, spec)
    if fmt == "feed":
        from ingestion.feeds import read_feed

        cap = min(spec.max_bytes, 256 * 2**20)
        yield from _record_tasks(
            read_feed(name, spec, state, spec.http_timeout, cap, spec.http_retries), file_index, name, spec
        )
        return
    if fmt == "parquet":
        if spec.shape:  # nested platform records: unpacked per record
            yield from _record_tasks(_parquet_records(location, name), file_index, name, spec)
            return
        first = 0
        for batch in parquet_batches(location, BATCH_ROWS):
            yield Task("batch", file_index, name, first, batch)
            first += batch.num_rows
        return
    with open_input(location, spec, fmt) as (shape, stream, encoding):
        if shape == "jsonl" and is_utf8(encoding) and not spec.shape:
            # A plain local file is re-read by whoever cleans the block, so only its place travels.
            seekable = not is_remote(location) and sniff_compression(_head(location)) is None
            for first, offset, block in jsonl_blocks(stream, BLOCK_BYTES):
                yield Task("jsonl", file_index, name, first, (offset, len(block)) if seekable else block)
        else:
            yield from _record_tasks(read_stream(shape, stream, name, encoding, spec), file_index, name, spec)


def _parquet_records(location: Path | str, name: str) -> Iterator[RawRecord]:
    number = 0
    for batch in parquet_batches(location, BATCH_ROWS):
        for fields in batch.to_pylist():
            yield RawRecord(number, fields, input=name)
            number += 1


def _head(path: Path | str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(8)


def _record_tasks(records, file_index: int, name: str, spec: SourceSpec) -> Iterator[Task]:
    """The per-record path's pieces, CHUNK_RECORDS records each (a platform's records unpacked first)."""
    if spec.shape:
        records = unpack_records(records, spec.shape)
    chunk: list[RawRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= CHUNK_RECORDS:
            yield Task("records", file_index, name, data=chunk)
            chunk = []
    if chunk:
        yield Task("records", file_index, name, data=chunk)


def run_task(task: Task, spec: SourceSpec, now: datetime, window: Window) -> Cleaned:
    """The cleaned rows and quarantined records of one piece."""
    if task.kind == "jsonl":
        data = task.data
        if isinstance(data, tuple):
            offset, length = data
            with open(task.name, "rb") as handle:
                handle.seek(offset)
                data = handle.read(length)
        return clean_jsonl_block(data, task.first, task.name, spec, now, window, task.file_index)
    if task.kind == "batch":
        batch = task.data

        def records(positions):
            return (
                RawRecord(task.first + i, batch.slice(i, 1).to_pylist()[0], input=task.name) for i in positions.tolist()
            )

        return clean_table(pa.Table.from_batches([batch]), task.first, records, spec, now, window, task.file_index)
    return clean_records(task.data, spec, now, window, task.file_index)
