"""Cleaning pieces and merging days in worker processes, or in this one for small inputs.

Results come back in the order the work was given, so a run with workers writes the same
partitions, byte for byte, as a run without.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ingestion.clean import Window
from ingestion.inputs import Task, run_task
from ingestion.merge import DayStage, LanguageCache, merge_day, read_day, stage_piece
from ingestion.sources import InputError, SourceSpec, local_bytes
from sentiment.language import warm_up
from sentiment.warehouse import Warehouse

PARALLEL_BYTES = 64 * 2**20  # smaller inputs are ingested in this process (starting workers takes ~1 s)


@dataclass
class Piece:
    """A cleaned piece: its rows staged in `path`, where each day's are, and what was quarantined."""

    path: Path
    days: dict[str, int]  # the record batch of each day in the piece file
    quarantined: list[dict]
    read: int
    out_of_range: int
    chars_replaced: int
    entities_decoded: int
    chars_removed: int
    found: dict[str, int]  # per optional field setting, the records where it matched
    keys: str  # a parsed record's top-level keys


def clean_piece(task: Task, spec: SourceSpec, now: datetime, window: Window, path: Path) -> Piece:
    cleaned = run_task(task, spec, now, window)
    return Piece(
        path,
        stage_piece(cleaned.rows, path),
        cleaned.quarantined,
        cleaned.read,
        cleaned.out_of_range,
        cleaned.chars_replaced,
        cleaned.entities_decoded,
        cleaned.chars_removed,
        cleaned.found,
        cleaned.keys,
    )


_cache: LanguageCache | None = None  # per process: a text seen on another day is identified once


def merge_one(warehouse: Warehouse, spec: SourceSpec, day: str, slices: list[tuple[str, int]]) -> tuple[int, int]:
    global _cache
    _cache = _cache or LanguageCache()
    return merge_day(warehouse, spec, day, read_day(slices), _cache)


class Inline:
    """Everything in this process."""

    def __init__(self):
        warm_up()

    def clean(
        self, tasks: Iterable[Task], spec: SourceSpec, now: datetime, window: Window, stage: DayStage
    ) -> Iterator[Piece]:
        for task in tasks:
            yield clean_piece(task, spec, now, window, stage.next_path())

    def merge(self, warehouse: Warehouse, spec: SourceSpec, stage: DayStage) -> Iterator[tuple[int, int]]:
        for day in stage.days():
            yield merge_one(warehouse, spec, day, stage.slices[day])


def _start_worker(settings: dict[str, str]) -> None:
    os.environ.update(settings)
    warm_up()


class Workers:
    """Pieces and days handed to `n` worker processes, at most 2n in flight (bounded memory)."""

    def __init__(self, n: int):
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ingestion.parallel"])  # workers start with the modules imported
        # the fork server keeps the environment it started with: hand each worker today's store settings
        settings = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "SENTIMENT_"))}
        self.n = n
        self.executor = ProcessPoolExecutor(n, mp_context=context, initializer=_start_worker, initargs=(settings,))

    def clean(
        self, tasks: Iterable[Task], spec: SourceSpec, now: datetime, window: Window, stage: DayStage
    ) -> Iterator[Piece]:
        pending: deque = deque()
        try:
            for task in tasks:
                pending.append(self.executor.submit(clean_piece, task, spec, now, window, stage.next_path()))
                while len(pending) > 2 * self.n:
                    yield pending.popleft().result()
        except InputError:
            while pending:  # what was read before the error is kept
                yield pending.popleft().result()
            raise
        while pending:
            yield pending.popleft().result()

    def merge(self, warehouse: Warehouse, spec: SourceSpec, stage: DayStage) -> Iterator[tuple[int, int]]:
        pending: deque = deque()
        for day in stage.days():
            pending.append(self.executor.submit(merge_one, warehouse, spec, day, stage.slices[day]))
            while len(pending) > 2 * self.n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        self.executor.shutdown(cancel_futures=True)


@contextmanager
def pool_for(locations: list[Path | str], workers: int | None = None):
    """Workers for the inputs: `workers` processes, or by default one per core when the local
    inputs add up to PARALLEL_BYTES or more; one means this process."""
    if workers is None:
        workers = (os.cpu_count() or 1) if local_bytes(locations) >= PARALLEL_BYTES else 1
    if workers <= 1:
        yield Inline()
        return
    pool = Workers(workers)
    try:
        yield pool
    finally:
        pool.close()
