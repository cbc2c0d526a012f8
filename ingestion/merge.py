"""Cleaned rows to partitions: staged on disk with an index by day, then each day deduplicated
against itself and its stored partition, its new rows' language identified, and the partition
rewritten atomically.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingestion.schema import QUARANTINE_SCHEMA, RAW_PARQUET, STAGE_SCHEMA, conform
from ingestion.sources import SourceSpec
from sentiment.files import process_alive
from sentiment.language import detect_languages
from sentiment.warehouse import PART_FILE, Warehouse, read_table, write_file_atomic, write_partition


def _day_runs(rows: pa.Table) -> tuple[pa.Array, list[tuple[str, int, int]]]:
    """The order that sorts `rows` by UTC day, and each day's (day, start, length) in that order."""
    days = rows.column("published_at").cast(pa.date32()).combine_chunks()
    order = pc.sort_indices(days)
    runs = pc.run_end_encode(days.take(order))
    out, start = [], 0
    for day, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist(), strict=True):
        out.append((day.isoformat(), start, end - start))
        start = end
    return order, out


def by_day(rows: pa.Table) -> dict[str, pa.Table]:
    """The rows of each UTC day, each in its own buffers (a slice would carry the whole table's
    buffers to another process)."""
    if rows.num_rows == 0:
        return {}
    order, runs = _day_runs(rows)
    return {day: rows.take(order[start : start + length]) for day, start, length in runs}


def stage_piece(rows: pa.Table, path: Path) -> dict[str, int]:
    """Write `rows` to the Arrow file `path`, one record batch per day; return each day's batch."""
    if rows.num_rows == 0:
        return {}
    order, runs = _day_runs(rows)
    (ordered,) = rows.cast(STAGE_SCHEMA).take(order).combine_chunks().to_batches()
    batches = {}
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, STAGE_SCHEMA) as writer:
        for i, (day, start, length) in enumerate(runs):
            writer.write_batch(ordered.slice(start, length))  # writes only the slice's bytes
            batches[day] = i
    return batches


class DayStage:
    """Cleaned rows on their way to the merge: pieces written to Arrow files in a scratch folder,
    and where each day's rows are in them (memory holds the index, not the rows)."""

    def __init__(self, parent: Path):
        parent.mkdir(parents=True, exist_ok=True)
        sweep_stale(parent)
        self.directory = Path(tempfile.mkdtemp(prefix=f"ingest-{socket.gethostname()}-{os.getpid()}-", dir=parent))
        self.slices: dict[str, list[tuple[str, int]]] = defaultdict(list)  # day: (piece file, batch)
        self._count = 0

    def next_path(self) -> Path:
        self._count += 1
        return self.directory / f"piece-{self._count:06d}.arrow"

    def add(self, path: Path, batches: dict[str, int]) -> None:
        for day, batch in batches.items():
            self.slices[day].append((str(path), batch))

    def days(self) -> list[str]:
        return sorted(self.slices)

    def close(self) -> None:
        forget_pieces()
        shutil.rmtree(self.directory, ignore_errors=True)


_readers: dict[str, pa.ipc.RecordBatchFileReader] = {}  # piece files of this process's current ingest


def sweep_stale(parent: Path) -> list[Path]:
    """Remove the staging folders that runs on this host left when they were killed (their
    process is gone); folders of live runs, or of other hosts, are left alone."""
    removed = []
    prefix = f"ingest-{socket.gethostname()}-"
    for folder in parent.glob(f"{prefix}*"):
        pid = folder.name[len(prefix) :].split("-", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
    return True


def read_day(slices: list[tuple[str, int]]) -> pa.Table:
    """A day's staged rows: its record batch in each piece file (only those bytes are read)."""
    batches = []
    for path, batch in slices:
        if path not in _readers:
            _readers[path] = pa.ipc.open_file(pa.OSFile(path))
        batches.append(_readers[path].get_batch(batch))
    return pa.Table.from_batches(batches, STAGE_SCHEMA)


def forget_pieces() -> None:
    """Close the piece files (an ingest is over)."""
    _readers.clear()


class LanguageCache:
    """Languages already identified in this run, by content hash: a text repeated on other days
    (a retweet, a syndicated headline) is identified once. Forgets everything past `size` texts."""

    def __init__(self, size: int = 1_000_000):
        self.size, self.known = size, {}

    def languages(self, texts: pa.Array, hashes: pa.Array) -> list[str]:
        keys = hashes.to_pylist()
        langs = list(map(self.known.get, keys))
        missing = [i for i, lang in enumerate(langs) if lang is None]
        if missing:
            found = detect_languages(pc.take(texts, pa.array(missing, pa.int64())).to_pylist())
            if len(self.known) + len(missing) > self.size:
                self.known.clear()
            for i, lang in zip(missing, found, strict=True):
                langs[i] = self.known[keys[i]] = lang
        return langs


def merge_day(
    warehouse: Warehouse, spec: SourceSpec, day: str, staged: pa.Table, cache: LanguageCache | None = None
) -> tuple[int, int]:
    """Add the day's staged rows not stored yet (by id, and by text when the source says so) to its
    partition, first occurrence kept; return (written, duplicates). Re-running with the same rows
    writes nothing."""
    directory = warehouse.raw_partition(spec.name, day)
    existing = read_table(directory / PART_FILE) if (directory / PART_FILE).exists() else None
    in_order = pc.sort_indices(staged, sort_keys=[("_order", "ascending")])
    keep = new_rows(staged.select(["doc_id", "content_hash"]).take(in_order), existing, spec.dedup_text)
    if not keep:
        return 0, staged.num_rows
    kept = pc.take(in_order, pa.array(keep, pa.int64()))
    by_id = pc.take(kept, pc.sort_indices(pc.take(staged.column("doc_id"), kept)))  # one take, already sorted
    new = with_languages(staged.drop_columns(["_order"]).take(by_id), spec, cache or LanguageCache())
    table = new if existing is None else pa.concat_tables([conform(existing), new]).sort_by("doc_id")
    write_partition(table, directory, **RAW_PARQUET)
    return len(keep), staged.num_rows - len(keep)


def new_rows(staged: pa.Table, existing: pa.Table | None, dedup_text: bool) -> list[int]:
    """Positions of the rows to store (`staged` in input order): not an id stored or seen before,
    nor (with `dedup_text`) a text stored or seen before."""
    ids, texts = staged.column("doc_id"), staged.column("content_hash")
    # A row whose id and text occur once in the day and are not stored is kept whatever comes
    # before it; only the others are walked in order.
    alone = _occurs_once(ids)
    if dedup_text:
        alone = pc.and_(alone, _occurs_once(texts))
    if existing is not None:
        alone = pc.and_(alone, pc.invert(pc.is_in(ids, value_set=existing.column("doc_id"))))
        if dedup_text:
            alone = pc.and_(alone, pc.invert(pc.is_in(texts, value_set=existing.column("content_hash"))))
    alone = alone.to_numpy(zero_copy_only=False)
    walk = np.flatnonzero(~alone)
    keep = alone.copy()
    if len(walk):
        seen_ids = set(existing.column("doc_id").to_pylist()) if existing is not None else set()
        seen_texts = set(existing.column("content_hash").to_pylist()) if existing is not None and dedup_text else set()
        walk_ids = pc.take(ids, walk).to_pylist()
        walk_texts = pc.take(texts, walk).to_pylist() if dedup_text else [None] * len(walk)
        for i, doc_id, text in zip(walk.tolist(), walk_ids, walk_texts, strict=True):
            if doc_id in seen_ids or (dedup_text and text in seen_texts):
                continue
            seen_ids.add(doc_id)
            seen_texts.add(text)
            keep[i] = True
    return np.flatnonzero(keep).tolist()


def _occurs_once(values: pa.ChunkedArray) -> pa.Array:
    """True where the value appears once in `values`."""
    values = values.combine_chunks()
    counts = pc.value_counts(values)
    once = pc.filter(counts.field("values"), pc.equal(counts.field("counts"), 1))
    return pc.is_in(values, value_set=once)


def with_languages(rows: pa.Table, spec: SourceSpec, cache: LanguageCache) -> pa.Table:
    """Rows without a language get the identified one, or the source's default when unsure."""
    lang = rows.column("lang").combine_chunks() if rows.num_rows else pa.array([], pa.string())
    missing = pc.is_null(lang)
    if spec.detect_lang and pc.any(missing).as_py():
        where = pc.indices_nonzero(missing)
        found = cache.languages(pc.take(rows.column("text"), where), pc.take(rows.column("content_hash"), where))
        found = pa.array([None if code == "und" else code for code in found], pa.string())
        lang = pc.replace_with_mask(lang, missing, found)
    lang = pc.fill_null(lang, spec.default_lang)
    return rows.set_column(rows.schema.get_field_index("lang"), "lang", lang)


def write_quarantine(warehouse: Warehouse, source: str, input_path: str, rows: list[dict]) -> None:
    """One file per input, replaced on every run (re-runs never repeat quarantine rows), its rows in
    record order with the unread rest of the file, if any, last."""
    key = hashlib.sha1(str(Path(input_path).resolve()).encode()).hexdigest()[:12]
    path = warehouse.quarantine / f"source={source}" / f"input-{key}.parquet"
    if not rows:
        path.unlink(missing_ok=True)
        return
    rows = sorted(rows, key=lambda row: (row["record"] < 0, row["record"]))
    write_file_atomic(pa.Table.from_pylist(rows, schema=QUARANTINE_SCHEMA), path)
