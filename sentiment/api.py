"""A Python API over the warehouse for notebooks: pandas or Arrow results.

from sentiment.api import open_warehouse
wh = open_warehouse("warehouse")
wh.sql("SELECT * FROM daily_sentiment WHERE source = $s", {"s": "twitter"})
wh.trend(source="twitter", by="week")
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa

from sentiment.query import available_tables, connect, run_query
from sentiment.settings import Settings, resolved
from sentiment.trend import trend
from sentiment.warehouse import Warehouse


class WarehouseClient:
    """One DuckDB connection for many queries; `refresh()` after new tables appear."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.con = connect(warehouse)

    def refresh(self) -> None:
        self.con = connect(self.warehouse)

    def tables(self) -> list[str]:
        return available_tables(self.warehouse)

    def sql(self, query: str, params: dict | list | None = None) -> pd.DataFrame:
        return run_query(self.warehouse, query, params, self.con)

    def arrow(self, query: str, params: dict | list | None = None) -> pa.Table:
        relation = self.con.sql(query, params=params) if params else self.con.sql(query)
        return relation.fetch_arrow_table()

    def trend(
        self,
        source: str | None = None,
        topic: str | None = None,
        start: date | None = None,
        end: date | None = None,
        by: str = "day",
        lang: str | None = None,
    ) -> pd.DataFrame:
        return trend(self.warehouse, source, topic, start, end, by, self.con, lang)


def open_warehouse(path: str | Path | None = None) -> WarehouseClient:
    """The warehouse at `path` (default: $SENTIMENT_HOME or ./warehouse)."""
    return WarehouseClient(Warehouse(resolved(path) if path else Settings.from_env().home))
