"""Write rows as hive-style partitions, each replaced atomically (idempotent re-runs)."""

from __future__ import annotations

from pathlib import Path

import apache_beam as beam
import pyarrow as pa

from sentiment.warehouse import write_partition


class _WritePartitionFn(beam.DoFn):
    def __init__(self, root: str, keys: tuple[str, ...], schema: pa.Schema, sort_by: list[str]):
        self.root = root
        self.keys = keys
        self.schema = schema
        self.sort_by = sort_by

    def process(self, element):
        values, rows = element
        directory = Path(self.root).joinpath(*(f"{k}={v}" for k, v in zip(self.keys, values, strict=True)))
        columns = [f for f in self.schema if f.name not in self.keys]
        table = pa.Table.from_pylist(list(rows), schema=pa.schema(columns))
        write_partition(table.sort_by([(c, "ascending") for c in self.sort_by]), directory)
        yield {"partition": str(directory), "rows": table.num_rows}


class WritePartitions(beam.PTransform):
    """Group rows by the partition `keys` and replace each partition directory under `root`.

    Partition columns live in the path (`date=.../source=...`), not in the files.
    Emits one {"partition", "rows"} record per partition written.
    """

    def __init__(self, root: str, keys: tuple[str, ...], schema: pa.Schema, sort_by: list[str]):
        super().__init__()
        self.root, self.keys, self.schema, self.sort_by = root, keys, schema, sort_by

    def expand(self, rows):
        keys = self.keys
        return (
            rows
            | "KeyByPartition" >> beam.Map(lambda r: (tuple(r[k] for k in keys), r))
            | "GroupByPartition" >> beam.GroupByKey()
            | "Write" >> beam.ParDo(_WritePartitionFn(self.root, keys, self.schema, self.sort_by))
        )
