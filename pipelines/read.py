"""Read the raw partitions of a date range (pruned by path, never a full scan)."""

from __future__ import annotations

import re
from datetime import date

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

RAW_COLUMNS = ["doc_id", "source", "published_at", "text", "lang"]
_PARTITION = re.compile(r"source=([^/]+)/date=(\d{4}-\d{2}-\d{2})/")


def raw_files(raw_dir: str, start: date, end: date, sources: list[str] | None = None) -> list[str]:
    """Parquet files of `raw/source=*/date=*/` with start <= date <= end, sorted."""
    pattern = FileSystems.join(raw_dir, "source=*", "date=*", "*.parquet")
    matched = FileSystems.match([pattern])[0].metadata_list
    files = []
    for meta in matched:
        found = _PARTITION.search(meta.path.replace("\\", "/"))
        if not found:
            continue
        source, day = found.group(1), date.fromisoformat(found.group(2))
        if start <= day <= end and (not sources or source in sources):
            files.append(meta.path)
    return sorted(files)


class ReadRawDocuments(beam.PTransform):
    """Rows (dicts with RAW_COLUMNS) of the given raw partition files."""

    def __init__(self, files: list[str]):
        super().__init__()
        self.files = files

    def expand(self, pbegin):
        return (
            pbegin
            | "ListPartitions" >> beam.Create(self.files)
            | "ReadParquet" >> beam.io.ReadAllFromParquet(columns=RAW_COLUMNS)
        )


_SCORED = re.compile(r"date=(\d{4}-\d{2}-\d{2})/source=([^/]+)/")


def scored_files(scored_dir: str, days: list[str], exclude: list[tuple[str, str]]) -> list[str]:
    """Scored partition files of `days`, except the (day, source) partitions in `exclude`."""
    wanted, skip = set(days), set(exclude)
    pattern = FileSystems.join(scored_dir, "date=*", "source=*", "*.parquet")
    files = []
    for meta in FileSystems.match([pattern])[0].metadata_list:
        found = _SCORED.search(meta.path.replace("\\", "/"))
        if found and found.group(1) in wanted and (found.group(1), found.group(2)) not in skip:
            files.append(meta.path)
    return sorted(files)


def _with_partition_values(element):
    path, row = element
    found = _SCORED.search(path.replace("\\", "/"))
    return {**row, "date": found.group(1), "source": found.group(2)}


class ReadScoredPartitions(beam.PTransform):
    """Scored rows of existing partition files, with `date` and `source` taken from their paths."""

    def __init__(self, files: list[str]):
        super().__init__()
        self.files = files

    def expand(self, pbegin):
        return (
            pbegin
            | "ListPartitions" >> beam.Create(self.files)
            | "ReadParquet" >> beam.io.ReadAllFromParquet(with_filename=True)
            | "AddPartitionValues" >> beam.Map(_with_partition_values)
        )
