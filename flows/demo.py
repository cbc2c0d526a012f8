"""The demo flow: ingest two real corpora, build (or reuse) the general model and evaluate it, score
with Beam, report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger

from flows.tasks import evaluate_task, general_model_task, ingest_task, raw_date_range, register_task, score_task
from ingestion.config import demo_sources
from sentiment.report import daily_table, plot_daily
from sentiment.settings import require_files
from sentiment.warehouse import Warehouse

EVAL_SPLITS = ("airline_tweets/test.parquet", "tweeteval_sentiment/test.parquet")  # shown when present
WEEK = (date(2015, 2, 17), date(2015, 2, 24))  # the airline tweets' week
REQUIRED = [
    "airline_tweets/all.parquet",
    "airline_tweets/train.parquet",
    "airline_tweets/validation.parquet",
    "airline_tweets/test.parquet",
    "reddit_worldnews/all.parquet",
]


@flow(name="demo", log_prints=False)
def demo_flow(home: str | Path, data_dir: Path, train_overrides: dict | None = None) -> dict:
    """Run the whole product once; returns what was produced and where."""
    require_files(data_dir, REQUIRED)
    logger = get_run_logger()
    warehouse = Warehouse(home)
    ingested = [ingest_task(spec, home) for spec in demo_sources(data_dir)]
    trained, fresh = general_model_task(home, data_dir, train_overrides)
    evaluations = {
        split: evaluate_task(trained, data_dir / split) for split in EVAL_SPLITS if (data_dir / split).is_file()
    }
    test_metrics = evaluations[EVAL_SPLITS[0]]
    model_dir = register_task(trained, home, test_metrics, copy=True)
    start, end = raw_date_range(home)
    scored = score_task(home, start, end, model_dir)
    table = daily_table(warehouse, *WEEK)
    chart = plot_daily(table, warehouse.reports / "daily_sentiment.png", "Daily mean sentiment, 17–24 Feb 2015")
    logger.info("demo finished: model %s, chart %s", model_dir.name, chart)
    return {
        "ingest": [s.as_dict() for s in ingested],
        "model": str(model_dir),
        "model_trained": fresh,
        "test_metrics": test_metrics,
        "evaluations": evaluations,
        "score": scored.as_dict(),
        "daily_table": table,
        "chart": str(chart),
        "warehouse": str(warehouse.root),
    }
