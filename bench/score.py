"""Scoring throughput: the Beam job end to end against its peers, measured in one run.

    python -m bench.score [--docs 200000] [--runners default,in_process,multi_processing,flink,spark]
                          [--backends auto,folded,onnx,torch] [--json]

With no options it times what `sentiment score` runs: the runner the job picks itself (one
worker process per core for jobs of 50,000 documents or more) and the backend `auto` (the
folded model on the CPU).

Builds a lake of N documents (70% tweets, 20% headlines, 10% long texts, sampled from
the datasets directory), trains a small model for one epoch (throughput does not depend
on its accuracy), then measures on the same texts and cores:
  raw      the model loop alone (the project's Predictor: tokenize, batch, forward), one
           process per core, once per backend (ONNX Runtime, folded, and any other asked
           for); the job is held to the fastest
  e2e      `python -m pipelines.score` as a process: read, tokenize, infer, write scored,
           aggregates and manifests; once per runner setting: the job's own choice, Beam's
           local runner in-process or one worker process per core, Apache Flink (embedded,
           through Beam's Flink job server) or Apache Spark local[2] (`make engines` first);
           for the engines, the job server's start-up is measured apart; once per
           `--backends` (who runs the model in the job)
  vader    VADER's polarity_scores over the same texts, one process per core (as our job
           uses every core), and in one process for reference
  limit    multiply-adds per token of the model as trained and folded, the rate the folded
           raw loop achieves, and this machine's own single-core matrix-multiply peak
  aggregation  the aggregate stage alone, over the scored rows
and prints docs/s and the ratios e2e/raw and e2e/vader. Results go to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch

from bench.measure import report, run_measured
from sentiment.settings import PROJECT_ROOT, Settings
from sentiment_model import folded, onnx_export

RUNNERS = {
    "default": [],  # what `sentiment score` picks (pipelines.score.pipeline_options)
    "in_process": ["--runner=FnApiRunner", "--direct_running_mode=in_memory"],
    "multi_processing": [
        "--runner=FnApiRunner",
        "--direct_running_mode=multi_processing",
        f"--direct_num_workers={os.cpu_count()}",
    ],
    "multi_threading": [
        "--runner=FnApiRunner",
        "--direct_running_mode=multi_threading",
        f"--direct_num_workers={os.cpu_count()}",
    ],
    "flink": ["--profile", str(PROJECT_ROOT / "infra" / "runners" / "flink-local.yaml")],
    "spark": ["--profile", str(PROJECT_ROOT / "infra" / "runners" / "spark-local.yaml")],
}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--runners", default="default", help=f"comma-separated, of {sorted(RUNNERS)}")
    parser.add_argument(
        "--backends", default="auto", help="comma-separated, of auto, folded, onnx, torch: the job's --backend"
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Settings.from_env().data_dir
    with tempfile.TemporaryDirectory(prefix="bench-score-") as tmp:
        result = run(Path(tmp), data_dir, args.docs, args.runners.split(","), args.backends.split(","))
    return report("score", result, args.json)


def run(home: Path, data_dir: Path, docs: int, runners: list[str], backends: list[str] = ("auto",)) -> dict:
    from bench.corpus import build_lake
    from sentiment_model.train import TrainConfig, train

    t0 = time.perf_counter()
    mix = build_lake(data_dir, home, docs)
    lake_s = time.perf_counter() - t0
    model = train(TrainConfig(data=data_dir / "airline_tweets", out=home / "model", epochs=1))
    texts = pq.read_table(home / "raw", columns=["text"], partitioning=None).column("text").to_pylist()
    cores = os.cpu_count() or 1
    result = {
        "docs": len(texts),
        "mix": mix,
        "cores": cores,
        "device": "cpu",
        "build_lake_s": round(lake_s, 1),
        "vader_processes": cores,
        "vader_docs_per_s": _vader_all_cores(texts, cores),
        "vader_one_process_docs_per_s": _vader(texts),
    }
    # e2e_<runner> with the first backend, e2e_<runner>_<backend> with the others
    names = [
        (runner, backend, f"e2e_{runner}" + (f"_{backend}" if backend != backends[0] else ""))
        for backend in backends
        for runner in runners
    ]
    for runner, backend, name in names:
        args = [*RUNNERS[runner], "--backend", backend]
        result[name] = {**_e2e(home, model, args), "backend": backend}
        # One day (~1/30 of the lake): what each job of a day-by-day backfill costs on this runner.
        result[name]["one_day_process_s"] = _e2e(home, model, args, ONE_DAY)["process_s"]
    if "in_process" in runners:
        for _, _, name in names:  # against the in-process runner with the first backend
            e2e = result[name]
            e2e["ratio_vs_in_process"] = round(e2e["docs_per_s"] / result["e2e_in_process"]["docs_per_s"], 3)
    best = max((result[name] for _, _, name in names), key=lambda r: r["docs_per_s"])
    result["e2e_docs_per_s"] = best["docs_per_s"]
    result["e2e_runner"] = best["runner"]
    result["e2e_backend"] = best["backend"]
    result["peak_rss_mb"] = best["peak_rss_mb"]
    cache = home / "model-cache"
    onnx_export.exported(model, cache)  # made once, before the clock, as the job does
    folded.load(model, cache)
    raw_backends = ["onnx", "folded", *(b for b in backends if b == "torch")]
    for backend in raw_backends:
        result[f"raw_docs_per_s_{backend}"] = _raw_all_cores(model, texts, backend, cache, cores)
    # The raw loop the job is held to: the fastest backend.
    result["raw_docs_per_s"] = max(result[f"raw_docs_per_s_{b}"] for b in raw_backends)
    result["ratio_vs_raw"] = round(result["e2e_docs_per_s"] / result["raw_docs_per_s"], 3)
    result["ratio_vs_vader"] = round(result["e2e_docs_per_s"] / result["vader_docs_per_s"], 3)
    result["raw_vs_vader"] = round(result["raw_docs_per_s"] / result["vader_docs_per_s"], 3)
    result["limit"] = _limit(model, best, result["raw_docs_per_s_folded"], cores)
    result["aggregation"] = _aggregation(home, model)
    if torch.cuda.is_available():
        result["raw_docs_per_s_cuda"] = _raw_loop(model, texts, device="cuda")
    return result


def _raw_loop(model: Path, texts: list[str], device: str = "cpu") -> float:
    """The PyTorch loop in this process (for the GPU)."""
    from sentiment_model.predict import Predictor

    predictor = Predictor.load(model, device)
    predictor.probabilities(texts[:2000])  # warm-up
    started = time.perf_counter()
    predictor.probabilities(texts, batch_size=256)
    return round(len(texts) / (time.perf_counter() - started), 1)


_predictor = None


def _raw_worker_init(model: str, backend: str, cache: str) -> None:
    global _predictor
    from sentiment_model.predict import Predictor

    torch.set_num_threads(1)  # one process per core, as the job's workers
    cache_path = Path(cache)
    if backend == "onnx":
        _predictor = Predictor.load(Path(model), onnx_path=onnx_export.exported(Path(model), cache_path), threads=1)
    elif backend == "folded":
        _predictor = Predictor.load(Path(model), folded_cache=cache_path)
    else:
        _predictor = Predictor.load(Path(model))


def _raw_chunk(texts: list[str]) -> int:
    _predictor.probabilities(texts, batch_size=256)
    return len(texts)


def _raw_all_cores(model: Path, texts: list[str], backend: str, cache: Path, processes: int) -> float:
    """The model loop alone (tokenize, batch, run) in `processes` worker processes of one thread each."""
    import multiprocessing

    chunks = [texts[i : i + 2000] for i in range(0, len(texts), 2000)]
    init = (str(model), backend, str(cache))
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_raw_worker_init, initargs=init) as pool:
        pool.map(_raw_chunk, [texts[:500]] * processes)  # warm: model loaded in every worker
        started = time.perf_counter()
        done = sum(pool.imap_unordered(_raw_chunk, chunks))
        seconds = time.perf_counter() - started
    return round(done / seconds, 1)


_analyzer = None


def _vader_worker_init() -> None:
    global _analyzer
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    _analyzer = SentimentIntensityAnalyzer()


def _vader_chunk(texts: list[str]) -> int:
    for text in texts:
        _analyzer.polarity_scores(text)
    return len(texts)


def _vader_all_cores(texts: list[str], processes: int) -> float:
    """VADER in `processes` worker processes (started and warmed before the clock starts)."""
    import multiprocessing

    chunks = [texts[i : i + 1000] for i in range(0, len(texts), 1000)]
    with multiprocessing.get_context("spawn").Pool(processes, initializer=_vader_worker_init) as pool:
        pool.map(_vader_chunk, [texts[:50]] * processes)  # warm: lexicon loaded in every worker
        started = time.perf_counter()
        done = sum(pool.imap_unordered(_vader_chunk, chunks))
        seconds = time.perf_counter() - started
    return round(done / seconds, 1)


def _vader(texts: list[str]) -> float:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    started = time.perf_counter()
    for text in texts:
        analyzer.polarity_scores(text)
    return round(len(texts) / (time.perf_counter() - started), 1)


ALL_DAYS, ONE_DAY = ("2024-01-01", "2024-12-31"), ("2024-01-15", "2024-01-15")


def _e2e(home: Path, model: Path, beam_args: list[str], days: tuple[str, str] = ALL_DAYS) -> dict:
    command = [
        sys.executable,
        "-m",
        "pipelines.score",
        "--home",
        str(home),
        "--model",
        str(model),
        "--from",
        days[0],
        "--to",
        days[1],
        "--json",
        *beam_args,
    ]
    seconds, peak_mb, stdout = run_measured(command)
    summary = json.loads(stdout.strip().splitlines()[-1])
    return {
        "runner": " ".join(beam_args),
        "process_s": round(seconds, 1),
        "pipeline_s": summary["seconds"],
        "job_server_startup_s": summary.get("job_server_startup_s", 0.0),  # engines: the JVM until it listens
        "startup_s": round(seconds - summary["seconds"] + summary.get("job_server_startup_s", 0.0), 1),
        "docs_per_s": round(summary["counters"]["documents_scored"] / seconds, 1),
        "tokens_per_doc": round(summary["counters"]["tokens"] / summary["counters"]["documents_scored"], 2),
        "mean_batch_size": summary["mean_batch_size"],
        "padding_efficiency": summary["padding_efficiency"],
        "peak_rss_mb": round(peak_mb, 1),  # the process and its workers together
    }


def _limit(model: Path, e2e: dict, raw_folded: float, cores: int) -> dict:
    """How far the folded raw loop is from this machine's arithmetic limit."""
    from sentiment_model import checkpoint

    config = checkpoint.read_meta(model)["model_config"]
    directions = 2 if config["bidirectional"] else 1
    hidden, embed = config["hidden_dim"], config["embed_dim"]
    unfolded = directions * 4 * hidden * (embed + hidden)  # W_ih·x + W_hh·h per step and direction
    folded_macs = directions * 4 * hidden * hidden  # W_hh·h only: W_ih·x is a table row
    achieved = raw_folded * e2e["tokens_per_doc"] * folded_macs / cores / 1e9
    peak = _matmul_gmacs(1024, 1024, 1024)
    return {
        "macs_per_token_unfolded": unfolded,
        "macs_per_token_folded": folded_macs,
        "tokens_per_doc": e2e["tokens_per_doc"],
        "achieved_gmacs_per_core": round(achieved, 2),
        "matmul_peak_gmacs_one_core": round(peak, 2),
        "matmul_recurrence_shape_gmacs_one_core": round(_matmul_gmacs(256, hidden, 4 * hidden), 2),
        "share_of_peak": round(achieved / peak, 3),
    }


def _matmul_gmacs(m: int, k: int, n: int) -> float:
    """Billions of multiply-adds per second of a float32 [m,k]x[k,n] product on one thread (best of 5)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    a, b, out = torch.randn(m, k), torch.randn(k, n), torch.empty(m, n)
    torch.mm(a, b, out=out)
    reps = max(1, int(2e8 // (m * k * n)))
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        best = min(best, (time.perf_counter() - started) / reps)
    torch.set_num_threads(threads)
    return m * k * n / best / 1e9


def _aggregation(home: Path, model: Path) -> dict:
    """The aggregate stage alone: read scored rows, build both tables, write them aside."""
    import apache_beam as beam

    from pipelines.aggregate import DailySentiment, DailyTopicSentiment
    from pipelines.read import ReadPartitions, scored_files
    from sentiment_model import checkpoint

    labels = checkpoint.read_meta(model)["labels"]
    files = scored_files(str(home / "scored"), [p.name[5:] for p in (home / "scored").glob("date=*")], [])
    started = time.perf_counter()
    with beam.Pipeline(runner="FnApiRunner") as p:
        rows = p | ReadPartitions(files, partition_keys=("date", "source"))
        (rows | DailySentiment(labels), rows | "Topics" >> DailyTopicSentiment(labels)) | beam.Flatten()
    with_agg = time.perf_counter() - started
    started = time.perf_counter()
    with beam.Pipeline(runner="FnApiRunner") as p:
        p | "ReadOnly" >> ReadPartitions(files, partition_keys=("date", "source"))
    read_only = time.perf_counter() - started
    return {
        "read_and_aggregate_s": round(with_agg, 2),
        "read_only_s": round(read_only, 2),
        "aggregate_s": round(with_agg - read_only, 2),
    }


if __name__ == "__main__":
    from sentiment.logs import configure_logging

    configure_logging("WARNING")
    main()
