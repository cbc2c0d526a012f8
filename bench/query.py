"""Query latency: `trend` over a year x 50 sources of daily_sentiment, against a pandas peer.

    python -m bench.query [--sources 50] [--days 365] [--repeat 20] [--json]

Writes a synthetic daily_sentiment table (one partition per day, one row per source), then
times `trend(source=..., by=...)` through DuckDB (a fresh connection each call, as the CLI
does) and the same weekly aggregation in pandas over the table read with pyarrow.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from bench.measure import report
from pipelines.aggregate import daily_schema
from sentiment.api import open_warehouse
from sentiment.trend import trend
from sentiment.warehouse import Warehouse, write_partition

LABELS = ["negative", "neutral", "positive"]


def build(home: Path, sources: int, days: int) -> Warehouse:
    rng = random.Random(0)
    warehouse = Warehouse(home)
    schema = daily_schema(LABELS)
    columns = pa.schema([f for f in schema if f.name != "date"])
    for d in range(days):
        day = date(2024, 1, 1) + timedelta(days=d)
        rows = []
        for s in range(sources):
            n = rng.randint(50, 5000)
            counts = [rng.randint(0, n) for _ in LABELS]
            total = sum(counts) or 1
            mean = rng.uniform(-0.6, 0.4)
            rows.append(
                {
                    "source": f"source{s:02d}",
                    "lang": "en",
                    "documents": n,
                    **{f"n_{lab}": c for lab, c in zip(LABELS, counts, strict=True)},
                    **{f"share_{lab}": c / total for lab, c in zip(LABELS, counts, strict=True)},
                    "mean_score": mean,
                    "std_score": 0.5,
                    "ci95_low": mean - 0.02,
                    "ci95_high": mean + 0.02,
                    "model_version": "bench",
                }
            )
        directory = warehouse.aggregate("daily_sentiment") / f"date={day}"
        write_partition(pa.Table.from_pylist(rows, schema=columns), directory)
    return warehouse


def _median_ms(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def _pandas_weekly(warehouse: Warehouse, source: str):
    table = ds.dataset(warehouse.aggregate("daily_sentiment"), partitioning="hive").to_table().to_pandas()
    rows = table[table["source"] == source].copy()
    rows["week"] = rows["date"].astype("datetime64[ns]").dt.to_period("W").dt.start_time
    rows["weighted"] = rows["mean_score"] * rows["documents"]
    weekly = rows.groupby("week")[["documents", "weighted"]].sum()
    return weekly["weighted"] / weekly["documents"]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-query-") as tmp:
        warehouse = build(Path(tmp), args.sources, args.days)
        client = open_warehouse(warehouse.root)
        result = {
            "rows": args.sources * args.days,
            "partitions": args.days,
            # a fresh connection per query, as each `sentiment trend` process has
            "trend_day_ms": _median_ms(lambda: trend(warehouse, source="source07", by="day"), args.repeat),
            "trend_week_ms": _median_ms(lambda: trend(warehouse, source="source07", by="week"), args.repeat),
            "trend_month_all_sources_ms": _median_ms(lambda: trend(warehouse, by="month"), args.repeat),
            # one connection for many queries, as the Python API keeps
            "api_trend_week_ms": _median_ms(lambda: client.trend(source="source07", by="week"), args.repeat),
            "pandas_week_ms": _median_ms(lambda: _pandas_weekly(warehouse, "source07"), args.repeat),
        }
    result["ratio_trend_week_vs_pandas"] = round(result["trend_week_ms"] / result["pandas_week_ms"], 3)
    result["ratio_api_trend_week_vs_pandas"] = round(result["api_trend_week_ms"] / result["pandas_week_ms"], 3)
    result["target_ms"] = 200
    return report("query", result, args.json)


if __name__ == "__main__":
    main()
