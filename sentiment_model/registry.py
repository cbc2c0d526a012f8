"""The model registry under `models/`: versions, their metrics, and the `current` pointer."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint
from sentiment_model.card import write_card


def register(
    warehouse: Warehouse, trained: Path, test_metrics: dict | None, make_current: bool = True, copy: bool = False
) -> Path:
    """Move (or `copy`) a trained model directory to `models/<version>/`, record its test metrics.

    A version that is already registered is kept as it is (its metrics updated)."""
    meta = checkpoint.read_meta(trained)
    target = warehouse.models / meta["version"]
    if warehouse.remote:
        return _register_remote(warehouse, Path(trained), meta, target, test_metrics, make_current, copy)
    if copy and target.resolve() != trained.resolve():
        warehouse.models.mkdir(parents=True, exist_ok=True)
        if not target.is_dir():
            staging = warehouse.models / f".copy-{uuid.uuid4().hex[:8]}"
            shutil.copytree(trained, staging)
            os.replace(staging, target)
        trained = target
    if test_metrics is not None:
        meta.setdefault("metrics", {})["test"] = test_metrics
        (trained / checkpoint.META).write_text(json.dumps(meta, indent=2))
        write_card(trained)
    if target.resolve() != trained.resolve():
        warehouse.models.mkdir(parents=True, exist_ok=True)
        os.replace(trained, target)
    if make_current:
        warehouse.set_current_model(target)
    return target


def _register_remote(
    warehouse: Warehouse, trained: Path, meta: dict, target, test_metrics: dict | None, make_current: bool, copy: bool
):
    """Upload a local model directory to object storage: every file, `model.json` last (a version
    is there once its model.json is), then the pointer."""
    if test_metrics is not None:
        meta.setdefault("metrics", {})["test"] = test_metrics
        (trained / checkpoint.META).write_text(json.dumps(meta, indent=2))
        write_card(trained)
    present = (target / checkpoint.META).is_file()
    files = sorted((p for p in trained.iterdir() if p.is_file()), key=lambda p: p.name == checkpoint.META)
    for item in files:
        if not present or test_metrics is not None and item.suffix in (".json", ".md"):
            (target / item.name).write_bytes(item.read_bytes())
    if not copy:
        shutil.rmtree(trained)
    if make_current:
        warehouse.set_current_model(target)
    return target


def list_models(warehouse: Warehouse) -> list[dict]:
    current = warehouse.current_version_dir().name if warehouse.has_current_model() else None
    rows = []
    if not warehouse.models.is_dir():
        return rows
    for directory in sorted(warehouse.models.iterdir(), key=lambda d: d.name):
        if directory.name == "current" or not (directory / checkpoint.META).is_file():
            continue
        meta = checkpoint.read_meta(directory)
        rows.append(
            {
                "version": meta["version"],
                "current": directory.name == current,
                "labels": meta["labels"],
                "metrics": meta.get("metrics", {}),
            }
        )
    return rows
