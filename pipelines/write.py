"""Write rows as hive-style partitions, each replaced atomically (idempotent re-runs)."""

from __future__ import annotations

import shutil
from pathlib import Path

import apache_beam as beam
import pyarrow as pa

from sentiment.warehouse import PART_FILE, write_partition


class _WritePartitionFn(beam.DoFn):
    def __init__(self, root: str, keys: tuple[str, ...], schema: pa.Schema, sort_by: list[str]):
        self.root, self.keys, self.schema, self.sort_by = root, keys, schema, sort_by

    def process(self, element):
        values, grouped = element
        rows = list(grouped["rows"])
        directory = Path(self.root).joinpath(*(f"{k}={v}" for k, v in zip(self.keys, values, strict=True)))
        if not rows:  # an expected partition that got no rows: drop what an earlier run left
            if directory.exists():
                shutil.rmtree(directory)
            return
        columns = [f for f in self.schema if f.name not in self.keys]
        table = pa.Table.from_pylist(list(rows), schema=pa.schema(columns))
        write_partition(table.sort_by([(c, "ascending") for c in self.sort_by]), directory)
        size = (directory / PART_FILE).stat().st_size
        yield {**dict(zip(self.keys, values, strict=True)), "rows": table.num_rows, "partition": str(directory),
               "bytes": size}


class WritePartitions(beam.PTransform):
    """Group rows by the partition `keys` and replace each partition directory under `root`.

    Partition columns live in the path (`date=.../source=...`), not in the files.
    `expected` lists partitions (tuples of key values) this run owns: one of them that
    receives no rows is removed, so a re-run never leaves stale rows behind.
    Emits one {**keys, "rows", "partition", "bytes"} record per partition written (bytes: its file's size).
    """

    def __init__(
        self,
        root: str,
        keys: tuple[str, ...],
        schema: pa.Schema,
        sort_by: list[str],
        expected: list[tuple] | None = None,
    ):
        super().__init__()
        self.root, self.keys, self.schema, self.sort_by = root, keys, schema, sort_by
        self.expected = expected

    def expand(self, rows):
        keys = self.keys
        keyed = rows | "KeyByPartition" >> beam.Map(lambda r: (tuple(r[k] for k in keys), r))
        owned = rows.pipeline | "ExpectedPartitions" >> beam.Create([(tuple(e), None) for e in self.expected or []])
        grouped = {"rows": keyed, "expected": owned} | "GroupByPartition" >> beam.CoGroupByKey()
        return grouped | "Write" >> beam.ParDo(_WritePartitionFn(self.root, keys, self.schema, self.sort_by))
