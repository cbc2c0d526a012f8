"""Per-day scoring manifests: which model scored a day, from which input, with what counts.

`manifests/score/date=<d>.json` is written after all of the day's outputs are in
place, and removed when a run starts re-scoring that day, so a manifest present
means the day is complete; its model version and input fingerprint tell whether it
is current.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import apache_beam as beam

from pipelines.read import partition_values
from sentiment.files import sha256_file
from sentiment.storage import relative
from sentiment.warehouse import PART_FILE, Warehouse, write_text_atomic


def manifest_dir(warehouse: Warehouse) -> Path:
    return warehouse.manifests / "score"


def manifest_path(warehouse: Warehouse, day: str) -> Path:
    return manifest_dir(warehouse) / f"date={day}.json"


def read_manifest(warehouse: Warehouse, day: str) -> dict | None:
    path = manifest_path(warehouse, day)
    return json.loads(path.read_text()) if path.is_file() else None


def read_manifests(warehouse: Warehouse) -> list[dict]:
    """Every day's scoring manifest, by date."""
    directory = manifest_dir(warehouse)
    if not directory.is_dir():
        return []
    return [json.loads(path.read_text()) for path in sorted(directory.glob("date=*.json"))]


def input_fingerprints(files: list[str]) -> dict[str, dict]:
    """Per day: the sources with raw files and one sha256 over those files' bytes."""
    by_day: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in files:
        values = partition_values(path, ("source", "date"))
        if values:
            by_day[values["date"]].append((values["source"], sha256_file(path)))
    out = {}
    for day, parts in sorted(by_day.items()):
        digest = hashlib.sha256("\n".join(f"{s}:{h}" for s, h in sorted(parts)).encode()).hexdigest()
        out[day] = {"sources": sorted({s for s, _ in parts}), "fingerprint": digest}
    return out


def _outputs(home: str, written: list[dict]) -> list[dict]:
    """The day's partition files, relative to the warehouse, with their sizes."""
    return sorted(
        ({"path": relative(w["partition"], home) + "/" + PART_FILE, "bytes": w["bytes"]} for w in written),
        key=lambda output: output["path"],
    )


def missing_outputs(warehouse: Warehouse, manifest: dict) -> list[str]:
    """The outputs a manifest names that are gone or changed size (all of them when it names none)."""
    outputs = manifest.get("outputs")
    if outputs is None:  # written before manifests named their outputs: cannot be checked
        return ["(this manifest names no outputs)"]
    problems = []
    for output in outputs:
        path = warehouse.root / output["path"]
        if not path.is_file():
            problems.append(f"{output['path']} is missing")
        elif path.stat().st_size != output["bytes"]:
            problems.append(f"{output['path']} has {path.stat().st_size} bytes, not {output['bytes']}")
    return problems


OUTPUT_PARTS = ("scored", "daily", "hourly", "topics")  # the writes a manifest lists as its day's outputs


class _WriteManifestFn(beam.DoFn):
    def __init__(self, home: str, model_version: str, fingerprints: dict[str, dict]):
        self.home, self.model_version, self.fingerprints = home, model_version, fingerprints

    def process(self, element):
        day, parts = element
        scored = {w["source"]: w["rows"] for w in parts["scored"]}
        skipped = Counter(r["reason"] for r in parts["skipped"])
        manifest = {
            "date": day,
            "model_version": self.model_version,
            "input_fingerprint": self.fingerprints.get(day, {}).get("fingerprint"),
            "sources": self.fingerprints.get(day, {}).get("sources", []),
            "scored": sum(scored.values()),
            "scored_by_source": dict(sorted(scored.items())),
            "skipped": dict(sorted(skipped.items())),
            "daily_sentiment_rows": sum(w["rows"] for w in parts["daily"]),
            "hourly_sentiment_rows": sum(w["rows"] for w in parts["hourly"]),
            "daily_topic_sentiment_rows": sum(w["rows"] for w in parts["topics"]),
            "outputs": _outputs(self.home, [w for name in OUTPUT_PARTS for w in parts[name]]),
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_text_atomic(json.dumps(manifest, indent=2), manifest_path(Warehouse(self.home), day))
        yield manifest


class WriteManifests(beam.PTransform):
    """{"scored", "skipped", "daily", "hourly", "topics"} PCollections -> one manifest per input day."""

    def __init__(self, home: str, model_version: str, fingerprints: dict[str, dict]):
        super().__init__()
        self.home, self.model_version, self.fingerprints = home, model_version, fingerprints

    def expand(self, parts: dict):
        keyed = {name: pcoll | f"Key{name}" >> beam.Map(lambda r: (r["date"], r)) for name, pcoll in parts.items()}
        keyed["days"] = parts["scored"].pipeline | "Days" >> beam.Create([(d, d) for d in self.fingerprints])
        return (
            keyed
            | "GroupByDay" >> beam.CoGroupByKey()
            | "Write" >> beam.ParDo(_WriteManifestFn(self.home, self.model_version, self.fingerprints))
        )
