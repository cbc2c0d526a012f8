"""The model registry under `models/`: versions, their metrics, and the `current` pointer."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint
from sentiment_model.card import write_card


def register(warehouse: Warehouse, trained: Path, test_metrics: dict | None, make_current: bool = True) -> Path:
    """Move a trained model directory to `models/<version>/`, record its test metrics."""
    meta = checkpoint.read_meta(trained)
    if test_metrics is not None:
        meta.setdefault("metrics", {})["test"] = test_metrics
        (trained / checkpoint.META).write_text(json.dumps(meta, indent=2))
        write_card(trained)
    target = warehouse.models / meta["version"]
    if target.resolve() != trained.resolve():
        warehouse.models.mkdir(parents=True, exist_ok=True)
        os.replace(trained, target)
    if make_current:
        warehouse.set_current_model(target)
    return target


def list_models(warehouse: Warehouse) -> list[dict]:
    current = (warehouse.models / "current").resolve() if (warehouse.models / "current").exists() else None
    rows = []
    for directory in sorted(warehouse.models.glob("*/")):
        if directory.name == "current" or not (directory / checkpoint.META).is_file():
            continue
        meta = checkpoint.read_meta(directory)
        rows.append(
            {
                "version": meta["version"],
                "current": directory.resolve() == current,
                "labels": meta["labels"],
                "metrics": meta.get("metrics", {}),
            }
        )
    return rows
