"""`sentiment ui`: the web page over the warehouse's tables."""

from __future__ import annotations

import typer

from sentiment_cli.common import HomeOption, app, fail, settings_for


@app.command()
def ui(
    host: str = typer.Option(
        "127.0.0.1", help="Address to listen on (0.0.0.0: every interface; the page is read-only)."
    ),
    port: int = typer.Option(8000, help="Port to listen on."),
    allow_sql: bool = typer.Option(
        False, "--allow-sql", help="Let the page run SQL: one SELECT at a time, reading only the warehouse."
    ),
    sql_seconds: float = typer.Option(10.0, help="With --allow-sql: a query running longer is stopped."),
    home: str = HomeOption,
):
    """A read-only web page over the tables: trend by hour, day, week or month with its 95% band and
    volume, the documents behind a point, the model's token-by-token explanation, runs, model card,
    alerts, exports. Nothing is loaded from the internet."""
    import uvicorn

    from sentiment.warehouse import Warehouse
    from sentiment_ui.app import create_app

    settings = settings_for(home)
    typer.echo(f"sentiment ui: reading the tables of {settings.home} ...", err=True)
    try:
        application = create_app(Warehouse(settings.home), allow_sql=allow_sql, sql_seconds=sql_seconds)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    typer.echo(f"sentiment ui: http://{shown}:{port}/ over {settings.home} (Ctrl-C stops it)", err=True)
    uvicorn.run(application, host=host, port=port, log_level="warning")
