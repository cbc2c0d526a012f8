"""Which days a backfill must score (from the per-day manifests), and in which jobs: pure planning, no Prefect."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipelines.manifest import input_fingerprints, missing_outputs, read_manifest
from pipelines.read import partition_values, raw_files
from pipelines.score import count_documents
from sentiment.warehouse import Warehouse


@dataclass
class BackfillPlan:
    todo: list[str] = field(default_factory=list)  # days to score
    skipped: list[str] = field(default_factory=list)  # complete for this model and unchanged input
    empty: list[str] = field(default_factory=list)  # days in the range with no raw documents
    damaged: dict[str, list[str]] = field(default_factory=dict)  # in todo: the manifest's outputs are gone/changed


def plan_backfill(
    warehouse: Warehouse,
    start: date,
    end: date,
    model_version: str,
    sources: list[str] | None = None,
    force: bool = False,
) -> BackfillPlan:
    """A day is skipped when its manifest says it was scored by `model_version` from the
    very input that is there now (same fingerprint), and every output file the manifest names
    is still there with its size, unless `force`."""
    from flows.schedule import days_between

    fingerprints = input_fingerprints(raw_files(str(warehouse.raw), start, end, sources))
    plan = BackfillPlan()
    for day in (d.isoformat() for d in days_between(start, end)):
        if day not in fingerprints:
            plan.empty.append(day)
            continue
        manifest = read_manifest(warehouse, day)
        current = (
            manifest is not None
            and manifest["model_version"] == model_version
            and manifest["input_fingerprint"] == fingerprints[day]["fingerprint"]
        )
        if current and not force:
            problems = missing_outputs(warehouse, manifest)
            if problems:
                plan.damaged[day] = problems
                current = False
        (plan.skipped if current and not force else plan.todo).append(day)
    return plan


def day_documents(warehouse: Warehouse, days: list[str], sources: list[str] | None) -> dict[str, int]:
    """Raw documents per day, from the Parquet footers (no data read)."""
    wanted = set(days)
    counts: dict[str, int] = dict.fromkeys(days, 0)
    first, last = date.fromisoformat(min(days)), date.fromisoformat(max(days))
    for path in raw_files(str(warehouse.raw), first, last, sources):
        day = partition_values(path, ("source", "date"))["date"]
        if day in wanted:
            try:
                counts[day] += count_documents([path])
            except (OSError, ValueError):  # unreadable: its job fails, and the day is reported then
                pass
    return counts


def group_days(days: list[str], documents: dict[str, int], max_days: int, max_documents: int) -> list[list[str]]:
    """Consecutive groups of the (sorted) days, each within both bounds unless one day alone exceeds them."""
    if max_days < 1 or max_documents < 1:
        raise ValueError("chunk_days and chunk_documents must be at least 1")
    groups: list[list[str]] = []
    current: list[str] = []
    size = 0
    for day in sorted(days):
        count = documents.get(day, 0)
        if current and (len(current) >= max_days or size + count > max_documents):
            groups.append(current)
            current, size = [], 0
        current.append(day)
        size += count
    if current:
        groups.append(current)
    return groups
