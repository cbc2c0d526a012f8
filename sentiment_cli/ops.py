"""Run the whole thing: the demo, the nightly flow, its deployment and schedule; fetch the datasets."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

import typer

from sentiment.storage import as_parameter, location, uri
from sentiment_cli.common import (
    DataOption,
    HomeOption,
    app,
    datasets_app,
    fail,
    settings_for,
    show_worker_output,
)


@app.command()
def demo(
    home: str = HomeOption,
    data_dir: Path = DataOption,
    epochs: int = typer.Option(None, help="Training epochs (default: the training default)."),
    verbose: bool = typer.Option(
        False,
        "--verbose",
        help="Show Beam's worker output (default: a log file in the warehouse, <home>/logs/beam-workers.log).",
    ),
):
    """Run the whole pipeline once as a Prefect flow: ingest, train, evaluate, score with Beam, report."""
    from sentiment.settings import DataMissingError

    show_worker_output(verbose)
    settings = settings_for(home, data_dir)
    from flows.demo import demo_flow
    from sentiment.report import format_metrics, format_scoring

    started = time.perf_counter()
    overrides = {"epochs": epochs} if epochs else None
    try:
        result = demo_flow(as_parameter(settings.home), settings.data_dir, overrides)
    except DataMissingError as err:
        fail(str(err))
    typer.echo("\nIngested (read = written + duplicates + quarantined):")
    for s in result["ingest"]:
        typer.echo(
            f"  {s['source']:<18} read {s['read']:>6}  written {s['written']:>6}  "
            f"duplicates {s['duplicates']:>5}  quarantined {s['quarantined']:>3}"
        )
    how = "trained now" if result["model_trained"] else "reused: same training data"
    typer.echo(f"\nGeneral model {Path(result['model']).name} ({how}):")
    for split, metrics in result["evaluations"].items():
        typer.echo(f"  {split:<34} " + format_metrics(metrics))
    typer.echo(f"\nScored: {format_scoring(result['score'])}")
    typer.echo("\nDaily sentiment per source, 17–24 Feb 2015 (DuckDB over aggregates/daily_sentiment):")
    typer.echo(result["daily_table"].to_string(index=False))
    home_dir = location(result["warehouse"])  # a directory or s3://...
    typer.echo(f"\nWhere everything went (warehouse {uri(home_dir)}):")
    for name in ("raw", "quarantine", "models", "scored", "aggregates"):
        typer.echo(f"  {name + '/':<12} {uri(home_dir / name)}")
    typer.echo(f"  chart       {result['chart']}")
    typer.echo(f'\nDone in {time.perf_counter() - started:.0f} s. Ask more with: sentiment query "SELECT ..."')
    where = f" --home {uri(home_dir)}" if home else ""  # else the same $SENTIMENT_HOME or ./warehouse
    typer.echo(
        f"Look at it in a browser: sentiment ui{where}   (then open http://127.0.0.1:8000/; "
        "from outside this machine: ssh -L 8000:127.0.0.1:8000 <host>)"
    )


@app.command()
def nightly(
    day: str = typer.Option(None, help="The day to score (default: the day that just ended)."),
    timezone: str = typer.Option("UTC", help="Time zone of 'the day that just ended'."),
    lag_days: int = typer.Option(1, help="Score the day this many days before today."),
    config: Path = typer.Option(None, help="Sources file to ingest (default: the demo's corpora)."),
    profile: Path = typer.Option(None, help="Runner profile for the scoring, e.g. infra/runners/flink-local.yaml."),
    home: str = HomeOption,
    data_dir: Path = DataOption,
):
    """Run the nightly flow once now: ingest, score (catching up missed days), check."""
    from flows.nightly import nightly_flow

    settings = settings_for(home, data_dir)
    result = nightly_flow(
        home=as_parameter(settings.home),
        data_dir=None if config else settings.data_dir,
        day=date.fromisoformat(day) if day else None,
        config=config,
        timezone=timezone,
        lag_days=lag_days,
        profile=profile,
    )
    typer.echo(json.dumps(result, default=str))


@app.command()
def deploy(
    cron: str = typer.Option("0 2 * * *", help="When the nightly run starts."),
    timezone: str = typer.Option("UTC", help="Time zone of the cron schedule and of 'the day that ended'."),
    profile: Path = typer.Option(
        None,
        help="Runner profile the nightly and backfill runs score with, e.g. "
        "infra/runners/flink-local.yaml (default: Beam's local runner).",
    ),
    home: str = HomeOption,
    data_dir: Path = DataOption,
):
    """Register the nightly, backfill and train deployments with the Prefect API (PREFECT_API_URL)."""
    from flows.deploy import DeployConfig, register

    settings = settings_for(home, data_dir)
    config = DeployConfig(settings.home, settings.data_dir, cron, timezone, profile=profile)
    for deployment_id in register(config):
        typer.echo(deployment_id)


@app.command()
def serve(
    cron: str = typer.Option("0 2 * * *", help="When the nightly run starts."),
    timezone: str = typer.Option("UTC", help="Time zone of the cron schedule."),
    home: str = HomeOption,
    data_dir: Path = DataOption,
):
    """Run the deployments from this process (one machine): nightly on its schedule, the rest on demand."""
    from flows.deploy import DeployConfig
    from flows.deploy import serve as run_serve

    settings = settings_for(home, data_dir)
    run_serve(DeployConfig(settings.home, settings.data_dir, cron, timezone))


@datasets_app.command("download")
def datasets_download(
    names: list[str] = typer.Argument(None, help="Datasets to fetch (default: the demo's two)."),
    dest: Path = typer.Option(None, help="Where the dataset folders go (default: the datasets directory)."),
    cache: Path = typer.Option(None, help="Cache for the verified originals (default: DEST/.cache)."),
):
    """Download the demo's public datasets, verify their SHA-256, convert them to Parquet."""
    from sentiment.datasets import download

    settings = settings_for()
    dest = dest or settings.data_dir
    try:
        for path in download(names or ["airline_tweets", "reddit_worldnews"], dest, cache or dest / ".cache"):
            typer.echo(str(path))
    except (ValueError, OSError, RuntimeError) as err:
        fail(f"{err}\n  (the canonical sources need internet access; on offline machines use SENTIMENT_DATA_DIR)")
