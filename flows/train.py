"""The train flow: train a candidate, compare it with the current model on a fixed set, promote if no worse."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger

from flows.tasks import evaluate_task, register_task, train_task
from sentiment.warehouse import Warehouse


@flow(name="train")
def train_flow(
    home: str | Path,
    data: Path,
    eval_data: Path | None = None,
    metric: str = "macro_f1",
    overrides: dict | None = None,
) -> dict:
    """`data` holds train.parquet and validation.parquet; `eval_data` (default data/test.parquet)
    is the fixed set both models are judged on."""
    logger = get_run_logger()
    warehouse = Warehouse(home)
    eval_data = Path(eval_data or Path(data) / "test.parquet")
    candidate = train_task(Path(data), home, overrides)
    candidate_metrics = evaluate_task(candidate, eval_data)
    current_metrics = None
    if warehouse.has_current_model():
        current_metrics = evaluate_task(warehouse.current_model(), eval_data)
    promote = current_metrics is None or candidate_metrics[metric] >= current_metrics[metric]
    version_dir = register_task(candidate, home, candidate_metrics, make_current=promote)
    logger.info(
        "candidate %s: %s %.4f against current %s: %s",
        version_dir.name,
        metric,
        candidate_metrics[metric],
        "none" if current_metrics is None else f"{current_metrics[metric]:.4f}",
        "promoted" if promote else "kept the current model",
    )
    return {
        "version": version_dir.name,
        "promoted": promote,
        "metric": metric,
        "candidate": candidate_metrics,
        "current": current_metrics,
    }
