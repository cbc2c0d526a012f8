"""The warehouse on object storage against the same on local disk, in one run.

    python -m bench.storage [--ingest-docs 1000000] [--score-docs 50000] [--json]

Starts the local S3 server (versitygw, `make s3-bin`) on a temp directory and times, for a local
warehouse and an s3:// one, each as its own process: `sentiment ingest` of a JSONL dump
(bench.ingest's), `sentiment score` of a lake of `--score-docs` documents over 30 days (bench.corpus;
its raw partitions copied to the bucket as they are), and `trend` (median of 5, a fresh connection
each: what a CLI call does). Reports seconds and the S3/local ratio of each; the S3 server runs on
the same 2 cores, so its own work is counted in.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import build_lake
from bench.ingest import write_dump
from bench.measure import report, run_measured
from sentiment.s3server import start
from sentiment.settings import Settings
from sentiment.storage import location
from sentiment.trend import trend
from sentiment.warehouse import Warehouse

DAYS = ("2024-01-01", "2024-01-31")


def _upload(local: Path, remote: str) -> None:
    root = location(remote)
    for path in sorted(local.rglob("*.parquet")):
        (root / path.relative_to(local).as_posix()).write_bytes(path.read_bytes())


def _sentiment(*args: str) -> tuple[float, float, str]:
    return run_measured([sys.executable, "-m", "sentiment_cli", *args])


def _trend_ms(home, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        table = trend(Warehouse(home), source="twitter", by="week")
        times.append((time.perf_counter() - started) * 1000)
        assert len(table) > 0
    return round(statistics.median(times), 1)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ingest-docs", type=int, default=1_000_000)
    parser.add_argument("--score-docs", type=int, default=50_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Settings.from_env().data_dir
    result: dict = {"ingest_docs": args.ingest_docs, "score_docs": args.score_docs}
    with tempfile.TemporaryDirectory(prefix="bench-storage-") as tmp:
        tmp = Path(tmp)
        server = start(tmp / "objects", log=tmp / "s3.log")
        try:
            os.environ.update(server.env())
            os.environ["SENTIMENT_CACHE"] = str(tmp / "cache")
            server.create_bucket("bench")
            homes = {"local": str(tmp / "wh"), "s3": "s3://bench/wh"}

            dump = tmp / "dump.jsonl"
            write_dump(dump, data_dir, args.ingest_docs)
            for where, home in homes.items():
                command = ["ingest", "--input", str(dump), "--source", "bench", "--home", home, "--json"]
                seconds, rss, out = _sentiment(*command)
                result[f"ingest_{where}_s"] = round(seconds, 1)
                result[f"ingest_{where}_written"] = json.loads(out.strip().splitlines()[-1])["written"]
                result[f"ingest_{where}_peak_rss_mb"] = round(rss, 1)

            lake = {"local": tmp / "lake", "s3": "s3://bench/lake"}
            build_lake(data_dir, lake["local"], args.score_docs, days=30)
            _upload(lake["local"] / "raw", f"{lake['s3']}/raw")
            from sentiment_model.train import TrainConfig, train

            model = train(TrainConfig(data=data_dir / "airline_tweets", out=tmp / "model", epochs=1))
            for where, home in lake.items():
                assert _sentiment("models", "import", str(model), "--current", "--home", str(home))[2] is not None
                command = ["score", "--home", str(home), "--from", DAYS[0], "--to", DAYS[1], "--json"]
                seconds, rss, out = _sentiment(*command)
                summary = json.loads(out.strip().splitlines()[-1])
                result[f"score_{where}_s"] = round(seconds, 1)
                result[f"score_{where}_docs_per_s"] = round(summary["counters"]["documents_scored"] / seconds, 1)
                result[f"score_{where}_peak_rss_mb"] = round(rss, 1)
                result[f"trend_{where}_ms"] = _trend_ms(home)
        finally:
            server.stop()
    for step in ("ingest", "score"):
        result[f"{step}_s3_vs_local"] = round(result[f"{step}_s3_s"] / result[f"{step}_local_s"], 2)
    result["trend_s3_vs_local"] = round(result["trend_s3_ms"] / result["trend_local_ms"], 2)
    result["same_written"] = result["ingest_local_written"] == result["ingest_s3_written"]
    return report("storage", result, args.json)


if __name__ == "__main__":
    main()
