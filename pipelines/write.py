"""Write rows as hive-style partitions, each replaced atomically (idempotent re-runs)."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc

from sentiment.storage import location, uri
from sentiment.warehouse import PART_FILE, remove_partition, write_partition


def by_partition(element: dict | pa.Table, keys: tuple[str, ...]):
    """(key values, rows) pairs: one for a dict row; one per distinct key values of a table."""
    if isinstance(element, dict):
        yield tuple(element[k] for k in keys), element
        return
    if element.num_rows == 0:
        return
    distinct = element.select(list(keys)).group_by(list(keys)).aggregate([]).to_pylist()
    if len(distinct) == 1:
        yield tuple(distinct[0][k] for k in keys), element
        return
    for values in distinct:
        mask = None
        for k in keys:
            match = pc.equal(element.column(k), values[k])
            mask = match if mask is None else pc.and_(mask, match)
        yield tuple(values[k] for k in keys), element.filter(mask)


def as_table(parts: list, schema: pa.Schema) -> pa.Table:
    """One table of `schema`'s columns from Arrow tables and dict rows."""
    rows = [p for p in parts if isinstance(p, dict)]
    tables = [p.select(schema.names).cast(schema) for p in parts if isinstance(p, pa.Table)]
    if rows:
        tables.append(pa.Table.from_pylist(rows, schema=schema))
    return pa.concat_tables(tables)


class _WritePartitionFn(beam.DoFn):
    def __init__(self, root: str, keys: tuple[str, ...], schema: pa.Schema, sort_by: list[str]):
        self.root, self.keys, self.schema, self.sort_by = root, keys, schema, sort_by

    def process(self, element):
        values, grouped = element
        parts = list(grouped["rows"])
        directory = location(self.root).joinpath(*(f"{k}={v}" for k, v in zip(self.keys, values, strict=True)))
        if not parts:  # an expected partition that got no rows: drop what an earlier run left
            remove_partition(directory)
            return
        columns = pa.schema([f for f in self.schema if f.name not in self.keys])
        table = as_table(parts, columns)
        write_partition(table.sort_by([(c, "ascending") for c in self.sort_by]), directory)
        size = (directory / PART_FILE).stat().st_size
        yield {
            **dict(zip(self.keys, values, strict=True)),
            "rows": table.num_rows,
            "partition": uri(directory),
            "bytes": size,
        }


class WritePartitions(beam.PTransform):
    """Group rows (dicts, or Arrow tables of many) by the partition `keys` and replace each
    partition directory under `root`.

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
        keyed = rows | "KeyByPartition" >> beam.FlatMap(by_partition, keys)
        owned = rows.pipeline | "ExpectedPartitions" >> beam.Create([(tuple(e), None) for e in self.expected or []])
        grouped = {"rows": keyed, "expected": owned} | "GroupByPartition" >> beam.CoGroupByKey()
        return grouped | "Write" >> beam.ParDo(_WritePartitionFn(self.root, keys, self.schema, self.sort_by))
