"""The questions users ask most, without SQL: sentiment over time for a source or topic."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from sentiment.query import has_table, run_query  # noqa: E402
from sentiment.warehouse import Warehouse  # noqa: E402

PERIODS = ("hour", "day", "week", "month")

# Pools the per-group mean/std/count of the aggregate tables into one mean and 95% interval per
# period. Every filter is a bound parameter; only the table name and period come from fixed lists.
_SQL = """
WITH g AS (
    SELECT {period_expression} AS period, documents AS n, mean_score AS m,
           coalesce(std_score, 0) AS s, share_negative, share_positive
    FROM {table}
    WHERE ($source IS NULL OR source = $source)
      AND ($lang IS NULL OR lang = $lang)
      AND ($topic IS NULL OR {topic_column} = $topic)
      AND ($start IS NULL OR date >= $start)
      AND ($end IS NULL OR date <= $end)
      AND mean_score IS NOT NULL
), p AS (
    SELECT period, sum(n) AS documents,
           sum(n * m) / sum(n) AS mean_score,
           sum((n - 1) * s * s + n * m * m) AS squares,
           sum(n * share_negative) / sum(n) AS share_negative,
           sum(n * share_positive) / sum(n) AS share_positive
    FROM g GROUP BY period
)
SELECT period, documents::BIGINT AS documents,
       round(share_negative, 3) AS share_negative, round(share_positive, 3) AS share_positive,
       round(mean_score, 4) AS mean_score,
       round(mean_score - 1.96 * sqrt(greatest(squares - documents * mean_score * mean_score, 0)
             / greatest(documents - 1, 1) / documents), 4) AS ci95_low,
       round(mean_score + 1.96 * sqrt(greatest(squares - documents * mean_score * mean_score, 0)
             / greatest(documents - 1, 1) / documents), 4) AS ci95_high
FROM p ORDER BY period
"""


def trend(
    warehouse: Warehouse,
    source: str | None = None,
    topic: str | None = None,
    start: date | None = None,
    end: date | None = None,
    by: str = "day",
    con=None,
    lang: str | None = None,
) -> pd.DataFrame:
    """Per period: documents, shares, mean score and its 95% interval (`con`: a connection to reuse)."""
    if by not in PERIODS:
        raise ValueError(f"--by must be one of {', '.join(PERIODS)}, not {by!r}")
    table, topic_column = ("daily_topic_sentiment", "topic") if topic else ("daily_sentiment", "NULL")
    if by == "hour" and topic:
        raise ValueError("topics have a daily grain only: use --by day, week or month with --topic")
    if by == "hour":
        table = "hourly_sentiment"
        if not _has(warehouse, table, con):
            raise ValueError(
                f"no hourly table in {warehouse.root}: its days were scored before the hourly grain existed. "
                "Score them again (`sentiment score --from D --to D`) to write aggregates/hourly_sentiment"
            )
    if topic and not _has(warehouse, table, con):
        raise ValueError(
            f"no topic table in {warehouse.root}: the days were scored without topics. Name topics in "
            "a TOML file and score again (`sentiment score --from D --to D --topics topics.toml`; "
            "docs/scoring.md, Topics)"
        )
    period = "hour" if by == "hour" else "date_trunc($period, date)::DATE"
    sql = _SQL.format(table=table, topic_column=topic_column, period_expression=period)
    params = {"source": source, "topic": topic, "start": start, "end": end, "lang": lang}
    if by != "hour":
        params["period"] = by
    return run_query(warehouse, sql, params, con)


def _has(warehouse: Warehouse, table: str, con) -> bool:
    """Whether the table has data: a kept connection's views say so without listing the store again."""
    if con is None:
        return has_table(warehouse, table)
    return bool(con.execute("SELECT view_name FROM duckdb_views() WHERE view_name = ?", [table]).fetchall())


BAR_DAYS = {"hour": 0.8 / 24, "day": 0.8, "week": 5.6, "month": 24}


def plot_trend(table: pd.DataFrame, path: Path, title: str, by: str = "day") -> Path:
    """Mean score with its interval above, volume below."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 5.5), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    periods = pd.to_datetime(table["period"])
    top.plot(periods, table["mean_score"], marker="o", markersize=3)
    top.fill_between(periods, table["ci95_low"], table["ci95_high"], alpha=0.2)
    top.axhline(0, color="grey", linewidth=0.8)
    top.set_ylabel("mean score")
    top.set_title(title)
    top.grid(alpha=0.3)
    bottom.bar(periods, table["documents"], width=BAR_DAYS.get(by, 0.8), align="edge", color="grey")
    bottom.set_ylabel("documents")
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
