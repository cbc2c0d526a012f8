"""Read the raw partitions of a date range (pruned by path, never a full scan)."""

from __future__ import annotations

import re
from datetime import date

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from sentiment.storage import is_remote, location, uri

RAW_COLUMNS = ["doc_id", "source", "published_at", "text", "lang"]
_VALUE = {"source": r"([^/]+)", "date": r"(\d{4}-\d{2}-\d{2})"}


def partition_values(path: str, keys: tuple[str, ...]) -> dict[str, str] | None:
    """{key: value} of the hive partition directories `<k1>=v1/<k2>=v2/` in a file's path."""
    regex = re.compile("/".join(f"{k}={_VALUE[k]}" for k in keys) + "/")
    found = regex.search(str(path).replace("\\", "/"))
    return dict(zip(keys, found.groups(), strict=True)) if found else None


def partition_files(root: str, keys: tuple[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(path, {key: value}) for each Parquet file of `root/<k1>=*/<k2>=*/` (a local directory or an
    object-store prefix, whose paths are URLs)."""
    base = location(root)
    if not base.is_dir():
        return []
    out = []
    for path in base.glob("/".join([*(f"{k}=*" for k in keys), "*.parquet"])):
        values = partition_values(uri(path), keys)
        if values:
            out.append((uri(path), values))
    return sorted(out)


def raw_files(raw_dir: str, start: date, end: date, sources: list[str] | None = None) -> list[str]:
    """Parquet files of `raw/source=*/date=*/` with start <= date <= end, sorted."""
    return [
        path
        for path, values in partition_files(raw_dir, ("source", "date"))
        if start <= date.fromisoformat(values["date"]) <= end and (not sources or values["source"] in sources)
    ]


def scored_files(scored_dir: str, days: list[str], exclude: list[tuple[str, str]]) -> list[str]:
    """Scored partition files of `days`, except the (day, source) partitions in `exclude`."""
    wanted, skip = set(days), set(exclude)
    return [
        path
        for path, v in partition_files(scored_dir, ("date", "source"))
        if v["date"] in wanted and (v["date"], v["source"]) not in skip
    ]


class ReadPartitions(beam.PTransform):
    """Arrow tables (a Parquet row group or part of one each) of the given partition files.

    `columns` picks columns (all by default); `partition_keys` adds those hive partition
    values (`date`, `source`) from each file's path as string columns.
    """

    def __init__(self, files: list[str], columns: list[str] | None = None, partition_keys: tuple[str, ...] = ()):
        super().__init__()
        self.files, self.columns, self.partition_keys = files, columns, tuple(partition_keys)

    def expand(self, pbegin):
        files = pbegin | "ListPartitions" >> beam.Create(self.files)
        if any(is_remote(f) for f in self.files):  # object storage: read by pyarrow's own client
            tables = files | "ReadParquet" >> beam.ParDo(_ReadObjectFn(self.columns, self.partition_keys))
            return tables
        if not self.partition_keys:
            return files | "ReadParquet" >> beam.io.ReadAllFromParquetBatched(columns=self.columns)
        keys = self.partition_keys
        return (
            files
            | "ReadParquet" >> beam.io.ReadAllFromParquetBatched(columns=self.columns, with_filename=True)
            | "AddPartitionValues" >> beam.Map(_with_partition_values, keys)
        )


class _ReadObjectFn(beam.DoFn):
    """A Parquet object's row groups as Arrow tables (with its partition values, when asked)."""

    def __init__(self, columns: list[str] | None, keys: tuple[str, ...]):
        self.columns, self.keys = columns, keys

    def process(self, path: str):
        with location(path).open("rb") as handle:
            parquet = pq.ParquetFile(handle)
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group, columns=self.columns)
                yield _with_partition_values((path, table), self.keys) if self.keys else table


def _with_partition_values(element, keys: tuple[str, ...]) -> pa.Table:
    path, table = element
    for key, value in partition_values(path, keys).items():
        table = table.append_column(key, pa.array([value] * table.num_rows, pa.string()))
    return table
