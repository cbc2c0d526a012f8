"""The scoring job: Read | Encode | RunInference | ToRows | Write scored + daily_sentiment.

    python -m pipelines.score --home warehouse --from 2015-02-17 --to 2015-02-24 [beam options]

Runs on Beam's in-process FnApiRunner unless `--runner` says otherwise (the plain
DirectRunner of Beam 2.77 would try to download a Prism binary first).
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipelines.aggregate import DailySentiment, daily_schema
from pipelines.encode import NAMESPACE, EncodeDocuments
from pipelines.infer import Infer
from pipelines.read import ReadRawDocuments, raw_files
from pipelines.rows import ToScoredRows, scored_schema
from pipelines.write import WritePartitions
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint

log = logging.getLogger(__name__)
DEFAULT_RUNNER = "FnApiRunner"


@dataclass
class ScoreJob:
    home: Path  # the warehouse
    start: date
    end: date
    model_dir: Path | None = None  # None: the warehouse's current model
    sources: list[str] | None = None  # None: every source
    device: str = "CPU"  # "CPU" or "GPU" for Beam's PyTorch handler
    max_batch_tokens: int = 8192  # RunInference batches hold at most this many tokens
    beam_args: list[str] = field(default_factory=list)  # runner and pipeline options

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")


@dataclass
class ScoreSummary:
    model_version: str
    files: int
    counters: dict
    scored_partitions: int
    aggregate_partitions: int

    def as_dict(self) -> dict:
        return asdict(self)


def score_range(job: ScoreJob) -> ScoreSummary:
    """Score every raw document dated job.start..job.end and (re)write their partitions."""
    warehouse = Warehouse(Path(job.home))
    model_dir = Path(job.model_dir) if job.model_dir else warehouse.current_model()
    meta = checkpoint.read_meta(model_dir)
    labels = list(meta["labels"])
    files = raw_files(str(warehouse.raw), job.start, job.end, job.sources)
    log.info("scoring %d raw partitions (%s..%s) with model %s", len(files), job.start, job.end, meta["version"])
    options = PipelineOptions(job.beam_args)
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = DEFAULT_RUNNER
    pipeline = beam.Pipeline(options=options)
    build(pipeline, files, warehouse, model_dir, labels, meta["version"], job)
    result = pipeline.run()
    result.wait_until_finish()
    counters = _counters(result)
    summary = ScoreSummary(
        model_version=meta["version"],
        files=len(files),
        counters={k: v for k, v in counters.items() if not k.startswith("partitions_")},
        scored_partitions=counters.get("partitions_scored", 0),
        aggregate_partitions=counters.get("partitions_daily_sentiment", 0),
    )
    log.info("scoring done: %s", summary.counters)
    return summary


def build(pipeline, files, warehouse: Warehouse, model_dir: Path, labels, version: str, job: ScoreJob):
    scored = (
        pipeline
        | "Read" >> ReadRawDocuments(files)
        | "Encode" >> EncodeDocuments(str(model_dir))
        | "Infer" >> Infer(model_dir, job.device, job.max_batch_tokens)
        | "ToScoredRows" >> ToScoredRows(labels, version)
    )
    written = scored | "WriteScored" >> WritePartitions(
        str(warehouse.scored), ("date", "source"), scored_schema(labels), ["doc_id"]
    )
    daily = (
        scored
        | "DailySentiment" >> DailySentiment(labels)
        | "WriteDaily" >> WritePartitions(
            str(warehouse.aggregates / "daily_sentiment"), ("date",), daily_schema(labels), ["source", "lang"]
        )
    )
    written | "CountScored" >> _CountPartitions("partitions_scored")
    daily | "CountDaily" >> _CountPartitions("partitions_daily_sentiment")


class _CountPartitions(beam.PTransform):
    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def expand(self, written):
        counter = beam.metrics.Metrics.counter(NAMESPACE, self.name)
        return written | beam.Map(lambda _: counter.inc())


def _counters(result) -> dict:
    query = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))
    totals: dict[str, int] = {}
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + (value or 0)
    return dict(sorted(totals.items()))


def parse_args(argv: list[str] | None = None) -> tuple[ScoreJob, bool]:
    parser = argparse.ArgumentParser(description="Score raw documents and write sentiment tables.")
    parser.add_argument("--home", type=Path, default=Path("warehouse"), help="the warehouse directory")
    parser.add_argument("--from", dest="start", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=date.fromisoformat, required=True)
    parser.add_argument("--model", type=Path, default=None, help="model directory (default: current)")
    parser.add_argument("--source", action="append", dest="sources", help="only this source (repeatable)")
    parser.add_argument("--device", default="CPU", choices=["CPU", "GPU"])
    parser.add_argument("--max-batch-tokens", type=int, default=8192)
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    known, beam_args = parser.parse_known_args(argv)
    job = ScoreJob(
        home=known.home, start=known.start, end=known.end, model_dir=known.model,
        sources=known.sources, device=known.device, max_batch_tokens=known.max_batch_tokens,
        beam_args=beam_args,
    )
    return job, known.json


def run(argv: list[str] | None = None) -> ScoreSummary:
    job, as_json = parse_args(argv)
    summary = score_range(job)
    if as_json:
        print(json.dumps(summary.as_dict()))
    return summary


if __name__ == "__main__":
    from sentiment.logs import configure_logging

    configure_logging()
    run()
