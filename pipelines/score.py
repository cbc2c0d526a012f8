"""The scoring job: Read | Encode | RunInference | ToRows | Write scored, aggregates, manifests.

    python -m pipelines.score --home warehouse --from 2015-02-17 --to 2015-02-24 [beam options]

Runs on Beam's in-process FnApiRunner unless `--runner` says otherwise (the plain
DirectRunner of Beam 2.77 would try to download a Prism binary first).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions

from pipelines.aggregate import (
    DailySentiment,
    DailyTopicSentiment,
    HourlySentiment,
    daily_schema,
    hourly_schema,
    topic_schema,
)
from pipelines.encode import DEFAULT_BATCH_TOKENS, NAMESPACE, SKIPPED, EncodeDocuments
from pipelines.infer import Infer
from pipelines.manifest import WriteManifests, input_fingerprints, manifest_path
from pipelines.metrics import counter_totals
from pipelines.profiles import runner_session
from pipelines.read import RAW_COLUMNS, ReadPartitions, partition_values, raw_files, scored_files
from pipelines.rows import ToScoredRows, scored_schema
from pipelines.topics import Topics
from pipelines.write import WritePartitions
from sentiment import options
from sentiment.logs import worker_output_to
from sentiment.options import option
from sentiment.storage import is_remote, location, uri
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint, folded, onnx_export
from sentiment_model.languages import scoring_languages
from sentiment_model.model import ModelConfig

log = logging.getLogger(__name__)
DEFAULT_RUNNER = "FnApiRunner"
BACKENDS = ("auto", "folded", "onnx", "torch")  # who runs the model: see ScoreJob.backend
# With no runner options given, ranges of at least this many documents run on one worker
# process per core: measured 1.28x faster at 200,000 documents on 2 cores, no faster at 20,000.
MULTI_PROCESS_MIN_DOCS = 50_000


@dataclass
class ScoreJob:
    """A scoring job's options: the one definition behind `sentiment score`, `python -m pipelines.score`,
    the flows' tasks and the Python API (sentiment.options)."""

    home: Path = option(help="the warehouse: a directory or s3://bucket/prefix")
    start: date = option(flag="--from", help="first day, YYYY-MM-DD")
    end: date = option(flag="--to", help="last day, YYYY-MM-DD")
    model_dir: Path | None = option(None, flag="--model", help="model directory", shown_default="models/current")
    sources: list[str] | None = option(
        None, flag="--source", help="only this source (repeatable); the days' aggregates stay whole"
    )
    device: str = option("CPU", help="cpu or cuda: where RunInference runs", shown_default="cpu")
    max_batch_tokens: int = option(
        DEFAULT_BATCH_TOKENS, help="tokens per inference batch, a run of documents of one raw file in order"
    )
    max_tokens: int | None = option(None, help="cut texts to this many tokens", shown_default="the model's limit")
    topics_file: Path | None = option(
        None, flag="--topics", help="topic keyword/regex lists (TOML)", shown_default="<home>/topics.toml when present"
    )
    torch_threads: int | None = option(
        None,
        help="intra-op threads per worker (PyTorch or ONNX Runtime)",
        shown_default="1 with several worker processes or the folded backend, else torch's",
    )
    profile: Path | None = option(
        None,
        help="runner profile, e.g. infra/runners/flink-local.yaml (Flink), "
        "spark-local.yaml (Spark); flags given here win; see infra/runners/",
    )
    only_days: list[str] | None = None  # score only these days of the range (YYYY-MM-DD); None: all
    # Worker processes' output on the console (True) or in <home>/logs/beam-workers.log (False).
    verbose: bool = option(
        help="show Beam's worker output",
        shown_default="<home>/logs/beam-workers.log when workers are processes",
        default_factory=lambda: os.environ.get("SENTIMENT_VERBOSE") == "1",
    )
    beam_args: list[str] = field(default_factory=list)  # runner and pipeline options
    backend: str = option(
        "auto",
        choices=BACKENDS,
        help="who runs the model: folded (its input weights folded into a per-word gate table, "
        "only the recurrence run per token; CPU only, one-layer models), onnx (ONNX Runtime over the "
        "model's export, CPU only), torch (PyTorch); all give the same labels. auto: folded on the "
        "CPU (onnx for a model of several layers), torch on a GPU",
    )
    languages: str = option(
        "model",
        help="documents given to the model, by language: model (the languages it "
        "reads, from its model.json, and und), all (every document, read or not), or codes "
        "such as en,und; the others are skipped, counted per language (skip reason "
        "language_<code>) and kept out of the aggregates",
    )

    def __post_init__(self) -> None:
        self.home = location(self.home)
        self.start, self.end = _as_date(self.start), _as_date(self.end)
        self.device = {"cpu": "CPU", "cuda": "GPU", "gpu": "GPU"}.get(self.device.lower(), self.device)
        if self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        if self.device not in ("CPU", "GPU"):
            raise ValueError(f"device must be cpu or cuda (CPU or GPU), not {self.device!r}")
        if self.max_batch_tokens < 1 or (self.max_tokens is not None and self.max_tokens < 1):
            raise ValueError("max_batch_tokens and max_tokens must be positive")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.backend == "auto" and self.device != "CPU":
            self.backend = "torch"
        if self.languages not in ("model", "all"):
            scoring_languages({}, self.languages)  # raises on a malformed list
        if self.backend in ("onnx", "folded") and self.device != "CPU":
            raise ValueError(f"the {self.backend} backend runs on the CPU; use --backend torch with --device cuda")

    def backend_for(self, meta: dict) -> str:
        """The backend that runs the model of `meta`: `auto` on the CPU is folded where it folds."""
        if self.backend != "auto":
            return self.backend
        return "folded" if folded.foldable(ModelConfig(**meta["model_config"])) else "onnx"


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@dataclass
class ScoreSummary:
    model_version: str
    days: int
    files: int
    counters: dict
    seconds: float
    docs_per_s: float
    mean_batch_size: float | None
    padding_efficiency: float | None  # real tokens / padded tokens fed to the model
    job_server_startup_s: float = 0.0  # starting the profile's Flink/Spark job server, when this job started one

    def as_dict(self) -> dict:
        return asdict(self)


def resolve_model(warehouse: Warehouse, model_dir: Path | None) -> Path:
    directory = location(model_dir) if model_dir else warehouse.current_model()
    if is_remote(directory):  # a model in object storage: read from a local copy
        directory = warehouse.local_model(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"model directory not found: {directory}")
    checkpoint.check(directory)
    return directory


def pipeline_options(args: list[str], documents: int = 0) -> PipelineOptions:
    """The job's Beam options (profile and flags merged); with none given, the local runner sized to the work."""
    args = list(args)
    if not args and documents >= MULTI_PROCESS_MIN_DOCS and (os.cpu_count() or 1) > 1:
        args = ["--direct_running_mode=multi_processing", f"--direct_num_workers={os.cpu_count()}"]
    options = PipelineOptions(args)
    if not options.view_as(StandardOptions).runner:
        options.view_as(StandardOptions).runner = DEFAULT_RUNNER
    return options


def count_documents(files: list[str]) -> int:
    """Rows in the raw files, from their Parquet footers (no data read)."""
    return sum(pq.read_metadata(uri(path)).num_rows for path in files)


def worker_threads(job: ScoreJob, options: PipelineOptions) -> int | None:
    """One intra-op thread per worker process when there are several; else torch's default."""
    if job.torch_threads:
        return job.torch_threads
    direct = options.view_as(DirectOptions)
    return 1 if direct.direct_running_mode == "multi_processing" else None


def score_range(job: ScoreJob) -> ScoreSummary:
    """Score every raw document dated job.start..job.end and replace those days' outputs."""
    started = time.perf_counter()
    warehouse = Warehouse(job.home)
    model_dir = resolve_model(warehouse, job.model_dir)
    meta = checkpoint.read_meta(model_dir)
    files = raw_files(str(warehouse.raw), job.start, job.end, job.sources)
    if job.only_days is not None:
        wanted = set(job.only_days)
        files = [f for f in files if partition_values(f, ("source", "date"))["date"] in wanted]
    fingerprints = input_fingerprints(files)
    if not files:
        log.warning(
            "no raw documents from %s to %s%s: nothing to score",
            job.start,
            job.end,
            f" for sources {job.sources}" if job.sources else "",
        )
        return ScoreSummary(meta["version"], 0, 0, {}, 0.0, 0.0, None, None)
    topics_file = job.topics_file or warehouse.topics_file
    topics = Topics.load(topics_file if job.topics_file or topics_file.is_file() else None)
    for day in fingerprints:  # an interrupted run must not leave a day marked complete
        manifest_path(warehouse, day).unlink(missing_ok=True)
    log.info(
        "scoring %d raw partitions over %d days (%s..%s) with model %s",
        len(files),
        len(fingerprints),
        job.start,
        job.end,
        meta["version"],
    )
    with runner_session(job.profile, job.beam_args) as session:
        options = pipeline_options(session.args, count_documents(files))
        log.info("runner: %s", " ".join(f"--{k}={v}" for k, v in options.get_all_options(drop_default=True).items()))
        pipeline = beam.Pipeline(options=options)
        build(pipeline, job, warehouse, model_dir, meta, files, fingerprints, topics, worker_threads(job, options))
        with _worker_output(job, options, warehouse):
            result = pipeline.run()
            result.wait_until_finish()
        summary = _summary(result, meta["version"], fingerprints, files, time.perf_counter() - started)
    summary.job_server_startup_s = session.startup_s
    return summary


def _worker_output(job: ScoreJob, options: PipelineOptions, warehouse: Warehouse):
    """Worker processes print hundreds of start-up lines; unless verbose they go to a log file."""
    if job.verbose or options.view_as(DirectOptions).direct_running_mode != "multi_processing":
        return contextlib.nullcontext()
    path = warehouse.logs / "beam-workers.log"
    log.info("Beam worker output -> %s (--verbose shows it here)", path)
    return worker_output_to(path)


def model_locations(job, warehouse: Warehouse, model_dir: Path, backend: str) -> tuple[str, str | None]:
    """Where the workers read the model (its directory) and its ONNX export: the warehouse's own
    copies when it is on object storage (workers share no disk with the submitter), else local paths."""
    onnx_path = onnx_export.exported(model_dir, warehouse.onnx_cache) if backend == "onnx" else None
    if not warehouse.remote or job.model_dir is not None and not is_remote(job.model_dir):
        return str(model_dir), str(onnx_path) if onnx_path else None
    version_dir = location(job.model_dir) if job.model_dir else warehouse.current_version_dir()
    if onnx_path is None:
        return uri(version_dir), None
    shared = warehouse.onnx_objects / onnx_path.name  # derived from the weights' hash: written once
    if not shared.is_file():
        shared.write_bytes(onnx_path.read_bytes())
    return uri(version_dir), uri(shared)


def build(pipeline, job, warehouse, model_dir, meta, files, fingerprints, topics, threads) -> None:
    labels, version = list(meta["labels"]), meta["version"]
    backend = job.backend_for(meta)
    model_location, onnx_location = model_locations(job, warehouse, model_dir, backend)
    # the folded model's gate table: made here once, beside the ONNX exports; workers of a
    # warehouse on object storage make their own on their own disk
    gates_cache = None if warehouse.remote else str(warehouse.model_cache("folded"))
    if backend == "folded" and gates_cache:
        folded.load(model_dir, gates_cache)
    encoded = (
        pipeline
        | "Read" >> ReadPartitions(files, RAW_COLUMNS)
        | "Encode"
        >> EncodeDocuments(
            model_location,
            job.max_tokens,
            topics,
            threads,
            job.max_batch_tokens,
            scoring_languages(meta, job.languages),
            join_tables=backend == "folded",  # its scores do not depend on the batch: small files fill batches
        )
    )
    scored = (
        encoded.encoded
        | "Infer"
        >> Infer(
            model_location if backend == "folded" else model_dir,
            job.device,
            onnx_path=onnx_location,
            threads=threads,
            backend=backend,
            cache=gates_cache,
        )
        | "ToScoredRows" >> ToScoredRows(labels, version)
    )
    owned = [(day, source) for day, info in fingerprints.items() for source in info["sources"]]
    days = [(day,) for day in fingerprints]
    scored_written = scored | "WriteScored" >> WritePartitions(
        str(warehouse.scored), ("date", "source"), scored_schema(labels), ["doc_id"], owned
    )
    # Sources not re-scored in this run still count in the days' aggregates.
    others = scored_files(str(warehouse.scored), list(fingerprints), exclude=owned) if job.sources else []
    other_rows = pipeline | "ReadOtherSources" >> ReadPartitions(others, partition_keys=("date", "source"))
    everything = (scored, other_rows) | beam.Flatten()
    daily = (
        everything
        | "DailySentiment" >> DailySentiment(labels)
        | "WriteDaily"
        >> WritePartitions(
            str(warehouse.aggregate("daily_sentiment")), ("date",), daily_schema(labels), ["source", "lang"], days
        )
    )
    hourly = (
        everything
        | "HourlySentiment" >> HourlySentiment(labels)
        | "WriteHourly"
        >> WritePartitions(
            str(warehouse.aggregate("hourly_sentiment")),
            ("date",),
            hourly_schema(labels),
            ["hour", "source", "lang"],
            days,
        )
    )
    per_topic = (
        everything
        | "DailyTopicSentiment" >> DailyTopicSentiment(labels)
        | "WriteTopics"
        >> WritePartitions(
            str(warehouse.aggregate("daily_topic_sentiment")),
            ("date",),
            topic_schema(labels),
            ["source", "lang", "topic"],
            days,
        )
    )
    parts = {
        "scored": scored_written,
        "skipped": encoded[SKIPPED],
        "daily": daily,
        "hourly": hourly,
        "topics": per_topic,
    }
    parts | "WriteManifests" >> WriteManifests(str(warehouse.root), version, fingerprints)


def _summary(result, version: str, fingerprints: dict, files: list[str], seconds: float) -> ScoreSummary:
    counters = dict(sorted(counter_totals(result, NAMESPACE).items()))
    counters.setdefault("documents_scored", 0)
    counters["documents_skipped"] = sum(v for k, v in counters.items() if k.startswith("documents_skipped_"))
    batches = counters.get("batches", 0)
    summary = ScoreSummary(
        model_version=version,
        days=len(fingerprints),
        files=len(files),
        counters=counters,
        seconds=round(seconds, 2),
        docs_per_s=round(counters.get("documents_read", 0) / seconds, 1) if seconds else 0.0,
        mean_batch_size=round(counters.get("batched_documents", 0) / batches, 1) if batches else None,
        padding_efficiency=(
            round(counters["tokens"] / counters["padded_tokens"], 3) if counters.get("padded_tokens") else None
        ),
    )
    log.info("scoring done in %.1f s: %s", seconds, counters)
    return summary


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> tuple[ScoreJob, bool]:
    """The job and whether to print JSON, from command-line flags; unknown flags are Beam pipeline options."""
    from sentiment.settings import Settings

    cli = options.parser(ScoreJob, SCORE_HELP, prog, home=Settings.from_env().home)
    cli.add_argument("--json", action="store_true", default=False, help="print the summary as one JSON object")
    known, beam_args = cli.parse_known_args(argv)
    return options.build(ScoreJob, known, beam_args=beam_args), known.json


SCORE_HELP = """Score the raw documents of a date range with Beam and replace those days' outputs.

Writes scored/, aggregates/daily_sentiment, aggregates/hourly_sentiment,
aggregates/daily_topic_sentiment and one manifest per day. Flags it does not know are Beam pipeline options, e.g.
--runner=PortableRunner --job_endpoint=localhost:8099 --environment_type=LOOPBACK"""


def run(argv: list[str] | None = None) -> ScoreSummary:
    job, as_json = parse_args(argv)
    summary = score_range(job)
    print(json.dumps(summary.as_dict()) if as_json else json.dumps(summary.as_dict(), indent=2))
    return summary


if __name__ == "__main__":
    from sentiment.logs import configure_logging

    configure_logging()
    run()
