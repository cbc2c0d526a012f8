"""DuckDB over the warehouse's hive-partitioned Parquet: one view per table."""

from __future__ import annotations

import glob
import re
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from sentiment.storage import uri
from sentiment.warehouse import Warehouse

TABLES = (
    "documents",
    "quarantine",
    "scored",
    "daily_sentiment",
    "hourly_sentiment",
    "daily_topic_sentiment",
    "alerts",
)


def table_globs(warehouse: Warehouse) -> dict[str, Path]:
    """View name -> the Parquet files behind it."""
    return warehouse.table_files()


def has_table(warehouse: Warehouse, name: str) -> bool:
    """Whether the table has any data file yet."""
    pattern = table_globs(warehouse)[name]
    if warehouse.remote:
        base = pattern
        while "*" in base.name or base.name.endswith(".parquet"):
            base = base.parent
        return base.is_dir() and next(base.glob(str(pattern.relative_to(base))), None) is not None
    return next(glob.iglob(str(pattern)), None) is not None


def mentioned(sql: str) -> set[str]:
    """The warehouse's tables a query names."""
    return {name for name in TABLES if re.search(rf"\b{name}\b", sql, re.IGNORECASE)}


def connect(warehouse: Warehouse, only: set[str] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view for each table that has data (`only`: just those tables).

    Parquet footers are cached on the connection, so a connection kept for several
    queries (the Python API does) reads each file's metadata once.
    """
    con = duckdb.connect()
    con.execute("SET parquet_metadata_cache = true")
    con.execute("SET TimeZone = 'UTC'")  # times shown as stored, whatever the machine's zone
    for name, pattern in table_globs(warehouse).items():
        if only is not None and name not in only:
            continue
        if warehouse.remote:  # listing an object store costs requests: only the tables asked for
            _register_remote_view(con, name, pattern)
            continue
        if not has_table(warehouse, name):
            continue
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{pattern}', "
            "hive_partitioning = true, union_by_name = true)"
        )
    return con


def _register_remote_view(con: duckdb.DuckDBPyConnection, name: str, pattern) -> None:
    """A view over a table on object storage, read through pyarrow's S3 client: DuckDB's own is an
    extension (httpfs) that downloads itself at run time, which offline servers cannot do."""
    base = pattern
    while "*" in base.name or base.name.endswith(".parquet"):
        base = base.parent
    try:
        dataset = ds.dataset(uri(base), format="parquet", partitioning="hive")  # the listing, one footer
    except FileNotFoundError:  # no such table yet
        return
    fragments = list(dataset.get_fragments())
    if not fragments:
        return
    if len(fragments) > 1:  # columns are only ever added: the newest file's schema reads the older ones too
        schema = pa.unify_schemas([fragments[-1].physical_schema, dataset.schema])
        if schema != dataset.schema:
            dataset = ds.dataset(uri(base), format="parquet", partitioning="hive", schema=schema)
    con.register(f"arrow_{name}", dataset)
    dates = "date" in dataset.schema.names
    cast = " REPLACE (CAST(date AS DATE) AS date)" if dates else ""
    con.execute(f"CREATE VIEW {name} AS SELECT *{cast} FROM arrow_{name}")


def available_tables(warehouse: Warehouse) -> list[str]:
    con = connect(warehouse)
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    return [name for (name,) in views if name in table_globs(warehouse)]


def run_query(
    warehouse: Warehouse, sql: str, params: dict | list | None = None, con: duckdb.DuckDBPyConnection | None = None
):
    """The result of `sql` as a pandas DataFrame; values in `params` are bound, never pasted.

    A bad query raises ValueError with DuckDB's message (and, for an unknown table, the
    tables there are).
    """
    con = con or connect(warehouse, mentioned(sql) if warehouse.remote else None)
    try:
        relation = con.sql(sql, params=params) if params else con.sql(sql)
        if relation is None:  # a statement with no result, e.g. SET
            return pd.DataFrame()
        frame = to_frame(relation)
    except duckdb.CatalogException as err:
        tables = available_tables(warehouse) or ["(none yet: run `sentiment demo` or `sentiment ingest`)"]
        raise ValueError(f"{err}\n  tables in {warehouse.root}: {', '.join(tables)}") from err
    except duckdb.Error as err:
        raise ValueError(str(err)) from err
    return frame


def to_frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A relation's rows as pandas; sum() of integers is HUGEINT, which pandas only holds as float:
    kept an integer."""
    frame = relation.df()
    for name, kind in zip(relation.columns, relation.types, strict=True):
        if str(kind) == "HUGEINT":
            frame[name] = frame[name].astype("Int64")
    return frame
