"""Ingestion as a Beam job: the same cleaning and merging as `sentiment ingest`, spread over workers.

    Inputs | PlanPieces (each file's blocks: line ranges of plain files, data of the others)
           | Reshuffle | CleanPieces (rows by day; quarantined records tagged)
           | MergeDays (GroupByKey on the day: dedup against the stored partition, language, atomic write)
    quarantined | WriteQuarantine (GroupByKey on the input: one file per input, replaced)

It runs on Beam's local runner and on every profile in infra/runners/; with the same input it
counts and stores exactly what the local path does (tests/test_ingest_beam.py).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from ingestion.clean import UNREADABLE, Window, unreadable_rest
from ingestion.ingest import IngestSummary, locations
from ingestion.inputs import Task, input_tasks, run_task
from ingestion.merge import LanguageCache, by_day, merge_day, write_quarantine
from ingestion.parallel import PARALLEL_BYTES
from ingestion.sources import InputError, SourceSpec, local_bytes
from pipelines.metrics import counter_totals
from pipelines.profiles import runner_session
from sentiment.storage import location as storage_location
from sentiment.warehouse import Warehouse, read_table

log = logging.getLogger(__name__)
NAMESPACE = "ingest"
QUARANTINED = "quarantined"
INPUTS = "inputs"
COUNTERS = (
    "read",
    "written",
    "duplicates",
    "quarantined",
    "partitions_written",
    "out_of_range",
    "chars_replaced",
    "entities_decoded",
    "chars_removed",
)


def _count(name: str, value: int) -> None:
    if value:
        Metrics.counter(NAMESPACE, name).inc(value)


class _Plan(beam.DoFn):
    def __init__(self, spec: SourceSpec, state: str, now: datetime):
        self.spec, self.state, self.now = spec, state, now

    def process(self, element):
        file_index, location = element
        yield beam.pvalue.TaggedOutput(INPUTS, location)
        try:
            yield from input_tasks(location, self.spec, file_index, storage_location(self.state))
        except InputError as err:  # the pieces read before are planned; the rest is one quarantined record
            log.error("%s", err)
            _count("read", 1)
            _count("quarantined", 1)
            yield beam.pvalue.TaggedOutput(QUARANTINED, (location, unreadable_rest(self.spec, location, err, self.now)))


class PlanPieces(beam.PTransform):
    """(file index, location) → the input's pieces (Tasks); tagged: every input, and the
    unreadable rest of a file as a quarantine row."""

    def __init__(self, spec: SourceSpec, state: Path, now: datetime):
        super().__init__()
        self.spec, self.state, self.now = spec, str(state), now

    def expand(self, inputs):
        return inputs | beam.ParDo(_Plan(self.spec, self.state, self.now)).with_outputs(
            INPUTS, QUARANTINED, main="tasks"
        )


class _Clean(beam.DoFn):
    def __init__(self, spec: SourceSpec, now: datetime, window: Window):
        self.spec, self.now, self.window = spec, now, window

    def process(self, task: Task):
        cleaned = run_task(task, self.spec, self.now, self.window)
        _count("read", cleaned.read)
        _count("out_of_range", cleaned.out_of_range)
        _count("chars_replaced", cleaned.chars_replaced)
        _count("entities_decoded", cleaned.entities_decoded)
        _count("chars_removed", cleaned.chars_removed)
        _count("quarantined", len(cleaned.quarantined))
        for row in cleaned.quarantined:
            yield beam.pvalue.TaggedOutput(QUARANTINED, (task.name, row))
        yield from by_day(cleaned.rows).items()


class CleanPieces(beam.PTransform):
    """Tasks → (day, Arrow table of cleaned rows); tagged: (input, quarantine row)."""

    def __init__(self, spec: SourceSpec, now: datetime, window: Window):
        super().__init__()
        self.spec, self.now, self.window = spec, now, window

    def expand(self, tasks):
        return tasks | beam.ParDo(_Clean(self.spec, self.now, self.window)).with_outputs(QUARANTINED, main="rows")


class _Merge(beam.DoFn):
    def __init__(self, spec: SourceSpec, home: str):
        self.spec, self.home = spec, home

    def setup(self):
        self.cache = LanguageCache()  # per worker: a text seen on another day is identified once

    def process(self, element):
        day, tables = element
        written, duplicates = merge_day(
            Warehouse(self.home), self.spec, day, pa.concat_tables(list(tables)), self.cache
        )
        _count("written", written)
        _count("duplicates", duplicates)
        _count("partitions_written", int(written > 0))
        yield day, written, duplicates


class MergeDays(beam.PTransform):
    """(day, rows) → each day merged into its partition once all its rows are in; yields
    (day, written, duplicates)."""

    def __init__(self, spec: SourceSpec, home: Path):
        super().__init__()
        self.spec, self.home = spec, str(home)

    def expand(self, rows):
        return rows | "ByDay" >> beam.GroupByKey() | "Merge" >> beam.ParDo(_Merge(self.spec, self.home))


class _WriteQuarantine(beam.DoFn):
    def __init__(self, source: str, home: str):
        self.source, self.home = source, home

    def process(self, element):
        location, rows = element
        rows = [row for row in rows if row is not None]
        write_quarantine(Warehouse(self.home), self.source, location, rows)
        yield location, len(rows)


class WriteQuarantine(beam.PTransform):
    """(input, quarantine row) plus every input → one quarantine file per input (none when clean)."""

    def __init__(self, source: str, home: Path):
        super().__init__()
        self.source, self.home = source, str(home)

    def expand(self, pcolls):
        rows, inputs = pcolls
        every = inputs | "NoneYet" >> beam.Map(lambda location: (location, None))
        return (
            (rows, every)
            | beam.Flatten()
            | "ByInput" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WriteQuarantine(self.source, self.home))
        )


def build(pipeline, spec: SourceSpec, warehouse: Warehouse, now: datetime, window: Window) -> None:
    inputs = [(i, str(location)) for i, location in enumerate(locations(spec))]
    planned = pipeline | "Inputs" >> beam.Create(inputs) | "Plan" >> PlanPieces(spec, warehouse.feed_state, now)
    cleaned = planned.tasks | "Spread" >> beam.Reshuffle() | "Clean" >> CleanPieces(spec, now, window)
    cleaned.rows | "MergeDays" >> MergeDays(spec, warehouse.root)
    quarantined = (planned[QUARANTINED], cleaned[QUARANTINED]) | "AllQuarantined" >> beam.Flatten()
    (quarantined, planned[INPUTS]) | "WriteQuarantine" >> WriteQuarantine(spec.name, warehouse.root)


def pipeline_options(args: list[str], spec: SourceSpec) -> PipelineOptions:
    """The job's Beam options; with none given, the local runner, one worker process per core for large inputs."""
    args = list(args)
    if not args and (os.cpu_count() or 1) > 1:
        if local_bytes(locations(spec)) >= PARALLEL_BYTES:
            args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count()}"]
    options = PipelineOptions(args)
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = "FnApiRunner"
    return options


def ingest_with_beam(
    spec: SourceSpec,
    warehouse: Warehouse,
    now: datetime | None = None,
    start: date | None = None,
    end: date | None = None,
    profile: Path | None = None,
    beam_args: list[str] | None = None,
) -> IngestSummary:
    """`ingestion.ingest.ingest_source` as a Beam job on the profile's runner (default: the local one)."""
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    with runner_session(profile, beam_args) as session:
        options = pipeline_options(session.args, spec)
        pipeline = beam.Pipeline(options=options)
        build(pipeline, spec, warehouse, now, Window(start, end))
        result = pipeline.run()
        result.wait_until_finish()
        summary = _summary(result, spec, warehouse)  # metrics come from the job service: before it stops
    log.info(
        "ingested %s with Beam in %.1f s: read %d = written %d + duplicates %d + quarantined %d",
        spec.name,
        time.perf_counter() - started,
        summary.read,
        summary.written,
        summary.duplicates,
        summary.quarantined,
    )
    if not summary.reconciles:
        raise AssertionError(f"ingest counts do not reconcile: {summary}")
    return summary


def _summary(result, spec: SourceSpec, warehouse: Warehouse) -> IngestSummary:
    totals = counter_totals(result, NAMESPACE)
    counters = {name: totals.get(name, 0) for name in COUNTERS}
    summary = IngestSummary(spec.name, **counters)
    folder = warehouse.quarantine / f"source={spec.name}"
    if folder.exists() and summary.quarantined:  # files not read to the end: from the quarantine just written
        inputs = {str(location) for location in locations(spec)}
        table = read_table(folder, columns=["input", "reason"], partitioning=None)
        summary.errors = [
            {"input": row["input"], "error": row["reason"][len(UNREADABLE) :]}
            for row in table.to_pylist()
            if row["reason"].startswith(UNREADABLE) and row["input"] in inputs
        ]
    return summary
