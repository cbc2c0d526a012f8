"""The warehouse layout on disk and atomic, idempotent partition writes.

raw/source=<name>/date=<YYYY-MM-DD>/part-0.parquet     ingested documents
quarantine/source=<name>/<input-key>.parquet            records not ingested, with a reason
models/<version>/ and models/current                    checkpoints and the current pointer
scored/date=<d>/source=<s>/part-0.parquet               one row per scored document
aggregates/<table>/date=<d>/part-0.parquet              daily_sentiment, daily_topic_sentiment
manifests/score/date=<d>.json                           what scored a day, from which input
alerts/date=<d>/part-0.parquet                          the nightly checks' findings
state/feeds/, state/staging/                            feed validators; ingest's per-day staging
cache/onnx/                                             derived model files (ONNX exports)
logs/                                                   worker logs
topics.toml                                             the topics scoring tags (optional)

Nothing else builds a path inside the warehouse: every module asks `Warehouse` for it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"


@dataclass(frozen=True)
class Warehouse:
    root: Path

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def scored(self) -> Path:
        return self.root / "scored"

    @property
    def aggregates(self) -> Path:
        return self.root / "aggregates"

    @property
    def manifests(self) -> Path:
        return self.root / "manifests"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def alerts(self) -> Path:
        return self.root / "alerts"

    @property
    def state(self) -> Path:
        return self.root / "state"

    @property
    def staging(self) -> Path:
        """Ingest's per-day staging (state/staging)."""
        return self.state / "staging"

    @property
    def feed_state(self) -> Path:
        """Each feed's ETag and Last-Modified (state/feeds)."""
        return self.state / "feeds"

    @property
    def onnx_cache(self) -> Path:
        return self.root / "cache" / "onnx"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def topics_file(self) -> Path:
        return self.root / "topics.toml"

    def aggregate(self, table: str) -> Path:
        """The directory of an aggregate table (daily_sentiment, daily_topic_sentiment)."""
        return self.aggregates / table

    def table_files(self) -> dict[str, Path]:
        """Query view name -> the glob of the Parquet files behind it."""
        return {
            "documents": self.raw / "source=*" / "date=*" / "*.parquet",
            "quarantine": self.quarantine / "source=*" / "*.parquet",
            "scored": self.scored / "date=*" / "source=*" / "*.parquet",
            "daily_sentiment": self.aggregate("daily_sentiment") / "date=*" / "*.parquet",
            "daily_topic_sentiment": self.aggregate("daily_topic_sentiment") / "date=*" / "*.parquet",
            "alerts": self.alerts / "date=*" / "*.parquet",
        }

    def raw_partition(self, source: str, day: str) -> Path:
        return self.raw / f"source={source}" / f"date={day}"

    def has_current_model(self) -> bool:
        return (self.models / "current").exists()

    def current_model(self) -> Path:
        """The directory `models/current` points to; a clear error if there is none."""
        pointer = self.models / "current"
        if not pointer.exists():
            raise FileNotFoundError(
                f"no current model under {self.models}: train one with "
                "`sentiment train --data DIR --out DIR` or run `sentiment demo`"
            )
        return pointer.resolve()

    def set_current_model(self, version_dir: Path) -> None:
        """Point `models/current` at `version_dir` (a relative symlink, swapped atomically)."""
        pointer = self.models / "current"
        tmp = self.models / f".current-{uuid.uuid4().hex}"
        os.symlink(os.path.relpath(version_dir, self.models), tmp)
        os.replace(tmp, pointer)


def write_partition(table: pa.Table, directory: Path, **parquet) -> Path:
    """Replace the partition `directory` with one file holding `table`, atomically (`parquet`:
    options for pyarrow.parquet.write_table).

    The new partition is written beside the old one, then swapped in with renames,
    so a reader sees either the old or the new partition, never half of one, and a
    re-run replaces rather than appends.
    """
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.parent / f".staging-{directory.name}-{uuid.uuid4().hex}"
    staging.mkdir()
    pq.write_table(table, staging / PART_FILE, **{"compression": "zstd", **parquet})
    retired = None
    if directory.exists():
        retired = directory.parent / f".retired-{directory.name}-{uuid.uuid4().hex}"
        os.rename(directory, retired)
    os.rename(staging, directory)
    if retired is not None:
        shutil.rmtree(retired)
    return directory / PART_FILE


def write_text_atomic(text: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_file_atomic(table: pa.Table, path: Path) -> Path:
    """Write one Parquet file aside and rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path
