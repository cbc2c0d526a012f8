"""What every command of the `sentiment` command line shares: the app, its sub-apps, options and helpers."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import typer
from typer.core import TyperGroup

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline machines: no telemetry
# Prefect's local ephemeral server can take longer than its default 20 s to start on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


class _Commands(TyperGroup):
    """The command group: a fault of the warehouse's store ends the command with one line saying what
    failed, where and what to do (exit 1), not a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as err:  # noqa: BLE001  only the store's faults are caught; the rest go on up
            from sentiment.storage import describe_store_error

            message = describe_store_error(err, os.environ.get("SENTIMENT_HOME"))
            if message is None:
                raise
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=1) from None


app = typer.Typer(
    cls=_Commands,
    help="Sentiment analytics for social and news text: ingest dumps into a Parquet lake, "
    "train the LSTM classifier, score with Apache Beam, query the tables with SQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Fetch the public datasets (for machines without the shared data directory).")
app.add_typer(datasets_app, name="datasets")
models_app = typer.Typer(help="The model registry under models/: versions, metrics, the current one.")
app.add_typer(models_app, name="models")

HomeOption = typer.Option(
    None, "--home", help="Warehouse: a directory or s3://bucket/prefix (env SENTIMENT_HOME, default ./warehouse)."
)
DataOption = typer.Option(
    None, "--data-dir", help="Datasets directory (env SENTIMENT_DATA_DIR, default ../shared/data)."
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def settings_for(home: str | Path | None = None, data_dir: Path | None = None, beam: bool = True):
    from sentiment.logs import configure_logging
    from sentiment.settings import Settings, resolved

    configure_logging(beam=beam)
    settings = Settings.from_env()
    return Settings(
        home=resolved(home or settings.home),
        data_dir=(data_dir or settings.data_dir).resolve(),
    )


def show_worker_output(on: bool) -> None:
    if on:
        os.environ["SENTIMENT_VERBOSE"] = "1"  # read by every scoring job this command starts


def fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)
