"""Ask the tables: SQL (query) and the trend of a source, topic or language (trend)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from sentiment_cli.common import (
    Format,
    HomeOption,
    app,
    fail,
    settings_for,
)


@app.command()
def query(
    sql: str = typer.Argument(
        ...,
        help="SQL over the views documents, quarantine, scored, daily_sentiment, hourly_sentiment, "
        "daily_topic_sentiment, alerts. Use $name placeholders with --param name=value for values.",
    ),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    out: Path = typer.Option(None, "--out", help="Write the result to this file instead of the terminal."),
    param: list[str] = typer.Option(None, "--param", help="A bound parameter, name=value (repeatable)."),
    home: str = HomeOption,
):
    """Ask the warehouse a question in SQL (DuckDB over the Parquet tables)."""
    from sentiment.query import run_query
    from sentiment.warehouse import Warehouse

    settings = settings_for(home)
    params = dict(p.split("=", 1) for p in param or [] if "=" in p) or None
    if param and (params is None or len(params) != len(param)):
        fail("--param takes name=value")
    if format is Format.parquet and out is None:
        fail("--format parquet needs --out FILE")
    try:
        frame = run_query(Warehouse(settings.home), sql, params)
    except ValueError as err:
        fail(str(err))
    _emit(frame, format, out)


def _emit(frame, format: Format, out: Path | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if format is Format.parquet:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), out)
        typer.echo(f"{len(frame)} rows -> {out}", err=True)
        return
    if format is Format.csv:
        text = frame.to_csv(index=False)
    elif format is Format.json:
        text = frame.to_json(orient="records", date_format="iso") + "\n"
    else:
        text = frame.to_string(index=False) + "\n"
    if out:
        out.write_text(text)
        typer.echo(f"{len(frame)} rows -> {out}", err=True)
    else:
        typer.echo(text, nl=False)


@app.command()
def trend(
    source: str = typer.Option(None, help="Only this source."),
    topic: str = typer.Option(None, help="Only documents with this topic (a configured topic or a #hashtag)."),
    lang: str = typer.Option(None, help="Only documents in this language (ISO 639-1, or und)."),
    start: str = typer.Option(None, "--from", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(None, "--to", help="Last day, YYYY-MM-DD."),
    by: str = typer.Option(
        "day", help="Period: hour (UTC, from aggregates/hourly_sentiment; no --topic), day, week or month."
    ),
    chart: Path = typer.Option(None, help="Also draw mean score (with its interval) and volume to this PNG."),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    out: Path = typer.Option(None, "--out", help="Write the table to this file."),
    home: str = HomeOption,
):
    """Sentiment over time for a source or topic: documents, shares, mean score and its 95% interval."""
    from sentiment.trend import plot_trend
    from sentiment.trend import trend as run_trend
    from sentiment.warehouse import Warehouse

    settings = settings_for(home)
    try:
        frame = run_trend(
            Warehouse(settings.home),
            source,
            topic,
            date.fromisoformat(start) if start else None,
            date.fromisoformat(end) if end else None,
            by,
            lang=lang,
        )
    except ValueError as err:
        fail(str(err))
    if format is Format.parquet and out is None:
        fail("--format parquet needs --out FILE")
    if frame.empty:
        typer.echo("no data for these filters", err=True)
    _emit(frame, format, out)
    if chart and not frame.empty:
        what = " / ".join(x for x in (source, topic) if x) or "all sources"
        typer.echo(f"chart -> {plot_trend(frame, chart, f'Sentiment per {by}: {what}', by)}", err=True)
