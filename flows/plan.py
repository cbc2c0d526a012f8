"""Which days a backfill must score, from the per-day manifests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pipelines.manifest import input_fingerprints, missing_outputs, read_manifest
from pipelines.read import raw_files
from sentiment.warehouse import Warehouse


@dataclass
class BackfillPlan:
    todo: list[str] = field(default_factory=list)  # days to score
    skipped: list[str] = field(default_factory=list)  # complete for this model and unchanged input
    empty: list[str] = field(default_factory=list)  # days in the range with no raw documents
    damaged: dict[str, list[str]] = field(default_factory=dict)  # in todo: the manifest's outputs are gone/changed


def plan_backfill(
    warehouse: Warehouse, start: date, end: date, model_version: str,
    sources: list[str] | None = None, force: bool = False,
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
