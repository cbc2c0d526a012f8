"""The warehouse layout on disk and atomic, idempotent partition writes.

raw/source=<name>/date=<YYYY-MM-DD>/part-0.parquet     ingested documents
quarantine/source=<name>/<input-key>.parquet            records not ingested, with a reason
models/<version>/ and models/current                    checkpoints and the current pointer
scored/date=<d>/source=<s>/part-0.parquet               one row per scored document
aggregates/<table>/date=<d>/part-0.parquet              daily_sentiment, hourly_sentiment, daily_topic_sentiment
manifests/score/date=<d>.json                           what scored a day, from which input
alerts/date=<d>/part-0.parquet                          the nightly checks' findings
state/feeds/, state/staging/                            feed validators; ingest's per-day staging
cache/onnx/                                             derived model files (ONNX exports)
logs/                                                   worker logs
topics.toml                                             the topics scoring tags (optional)

Nothing else builds a path inside the warehouse: every module asks `Warehouse` for it.
"""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from sentiment.storage import check_reachable, download_dir, is_remote, local_dir_for, location, uri

PART_FILE = "part-0.parquet"
CURRENT_POINTER = "CURRENT"  # models/CURRENT: the current version's name (a warehouse on object storage)


def scratch(root, *parts: str) -> Path:
    """A local directory for a warehouse's scratch and caches: inside it when it is local, else on
    local disk (`storage.local_root()`)."""
    root = location(root)
    return local_dir_for(root, *parts) if is_remote(root) else root.joinpath(*parts)


@dataclass(frozen=True)
class Warehouse:
    """The layout of a warehouse at `root`: a local directory or an object-store prefix (s3://...).

    What a process keeps beside a remote warehouse (staging, caches, logs) lives on local disk
    (`storage.local_root()`); everything a reader needs lives in the warehouse.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", location(self.root))
        if self.remote:
            check_reachable(self.root)

    @property
    def remote(self) -> bool:
        return is_remote(self.root)

    def local(self, *parts: str) -> Path:
        """A local directory for this warehouse's scratch: inside it when it is local, else on local disk."""
        return scratch(self.root, *parts)

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
        """Ingest's per-day staging (state/staging; on local disk for a remote warehouse)."""
        return self.local("state", "staging")

    @property
    def feed_state(self) -> Path:
        """Each feed's ETag and Last-Modified (state/feeds)."""
        return self.state / "feeds"

    @property
    def onnx_cache(self) -> Path:
        """ONNX exports of the models, made where the job is submitted (local disk)."""
        return self.model_cache("onnx")

    def model_cache(self, kind: str) -> Path:
        """Files derived from the models (`onnx` exports, `folded` gate tables), on local disk."""
        return self.local("cache", kind)

    @property
    def onnx_objects(self) -> Path:
        """A remote warehouse's copies of those exports (cache/onnx/), for workers that share no disk."""
        return self.root / "cache" / "onnx"

    @property
    def logs(self) -> Path:
        return self.local("logs")

    @property
    def topics_file(self) -> Path:
        return self.root / "topics.toml"

    def aggregate(self, table: str) -> Path:
        """The directory of an aggregate table (daily_sentiment, hourly_sentiment, daily_topic_sentiment)."""
        return self.aggregates / table

    def table_files(self) -> dict[str, Path]:
        """Query view name -> the glob of the Parquet files behind it."""
        return {
            "documents": self.raw / "source=*" / "date=*" / "*.parquet",
            "quarantine": self.quarantine / "source=*" / "*.parquet",
            "scored": self.scored / "date=*" / "source=*" / "*.parquet",
            "daily_sentiment": self.aggregate("daily_sentiment") / "date=*" / "*.parquet",
            "hourly_sentiment": self.aggregate("hourly_sentiment") / "date=*" / "*.parquet",
            "daily_topic_sentiment": self.aggregate("daily_topic_sentiment") / "date=*" / "*.parquet",
            "alerts": self.alerts / "date=*" / "*.parquet",
        }

    def files_of_days(self, table: str, days: list[str]) -> list[Path]:
        """The Parquet files of a date-partitioned table for those days only (a local warehouse:
        listing one day's directories is much cheaper than the whole table's)."""
        pattern = str(self.table_files()[table])
        return sorted(Path(f) for day in days for f in glob.glob(pattern.replace("date=*", f"date={day}")))

    def raw_partition(self, source: str, day: str) -> Path:
        return self.raw / f"source={source}" / f"date={day}"

    def has_current_model(self) -> bool:
        return (self.models / CURRENT_POINTER).is_file() if self.remote else (self.models / "current").exists()

    def current_version_dir(self) -> Path:
        """The current model's directory in the warehouse (`models/<version>`)."""
        if not self.has_current_model():
            raise FileNotFoundError(
                f"no current model under {self.models}: train one with "
                "`sentiment train --data DIR --out DIR` or run `sentiment demo`"
            )
        if self.remote:
            return self.models / (self.models / CURRENT_POINTER).read_text().strip()
        return (self.models / "current").resolve()

    def current_model(self) -> Path:
        """The current model as a local directory (a remote warehouse's, downloaded once per version)."""
        return self.local_model(self.current_version_dir())

    def local_model(self, version_dir: Path) -> Path:
        """A model directory of the warehouse, on local disk (versions never change once written)."""
        if not self.remote:
            return version_dir
        return download_dir(version_dir, local_dir_for(version_dir))

    def set_current_model(self, version_dir: Path) -> None:
        """Make `version_dir` current: `models/current`, a relative symlink swapped atomically; on
        object storage `models/CURRENT`, one object naming the version."""
        if self.remote:
            (self.models / CURRENT_POINTER).write_text(version_dir.name)
            return
        pointer = self.models / "current"
        tmp = self.models / f".current-{uuid.uuid4().hex}"
        os.symlink(os.path.relpath(version_dir, self.models), tmp)
        os.replace(tmp, pointer)


def write_partition(table: pa.Table, directory: Path, **parquet) -> Path:
    """Replace the partition `directory` with one file holding `table`, atomically (`parquet`:
    options for pyarrow.parquet.write_table).

    The new partition is written beside the old one, then swapped in with renames,
    so a reader sees either the old or the new partition, never half of one, and a
    re-run replaces rather than appends. On object storage, where there is no rename, the
    partition's one object is replaced by one PUT (atomic there), then any other object in it removed.
    """
    if is_remote(directory):
        target = directory / PART_FILE
        pq.write_table(table, uri(target), **{"compression": "zstd", **parquet})
        _remove_others(directory, PART_FILE)
        return target
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


def read_table(path: Path, **options) -> pa.Table:
    """A Parquet file or directory of the warehouse (local or on object storage) as one table."""
    return pq.read_table(uri(path), **options)


def _remove_others(directory: Path, keep: str) -> None:
    for item in directory.iterdir() if directory.exists() else []:
        if item.name != keep and item.is_file():
            item.unlink()


def remove_partition(directory: Path) -> None:
    """Remove a partition (a directory, or its objects on object storage); nothing if it is not there."""
    if is_remote(directory):
        _remove_others(directory, keep="")
    elif directory.exists():
        shutil.rmtree(directory)


def write_text_atomic(text: str, path: Path) -> Path:
    if is_remote(path):
        path.write_text(text)  # one PUT
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_file_atomic(table: pa.Table, path: Path) -> Path:
    """Write one Parquet file aside and rename it into place (on object storage: one PUT)."""
    if is_remote(path):
        pq.write_table(table, uri(path), compression="zstd")
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)
    return path
