"""The `sentiment` command line: the front door to ingestion, training, scoring and queries."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline machines: no telemetry

app = typer.Typer(
    help="Sentiment analytics for social and news text: ingest dumps into a Parquet lake, "
    "train the LSTM classifier, score with Apache Beam, query the tables with SQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Fetch the public datasets (for machines without the shared data directory).")
app.add_typer(datasets_app, name="datasets")

HomeOption = typer.Option(None, "--home", help="Warehouse directory [env SENTIMENT_HOME, default ./warehouse].")
DataOption = typer.Option(
    None, "--data-dir", help="Datasets directory [env SENTIMENT_DATA_DIR, default ../shared/data]."
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _settings(home: Path | None = None, data_dir: Path | None = None):
    from sentiment.logs import configure_logging
    from sentiment.settings import Settings

    configure_logging()
    settings = Settings.from_env()
    return Settings(
        home=(home or settings.home).resolve(),
        data_dir=(data_dir or settings.data_dir).resolve(),
    )


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def demo(
    home: Path = HomeOption,
    data_dir: Path = DataOption,
    epochs: int = typer.Option(None, help="Training epochs (default: the training default)."),
):
    """Run the whole pipeline once as a Prefect flow: ingest, train, evaluate, score with Beam, report."""
    from sentiment.settings import DataMissingError

    settings = _settings(home, data_dir)
    from flows.demo import demo_flow
    from sentiment.report import format_metrics

    started = time.perf_counter()
    overrides = {"epochs": epochs} if epochs else None
    try:
        result = demo_flow(settings.home, settings.data_dir, overrides)
    except DataMissingError as err:
        _fail(str(err))
    typer.echo("\nIngested (read = written + duplicates + quarantined):")
    for s in result["ingest"]:
        typer.echo(
            f"  {s['source']:<18} read {s['read']:>6}  written {s['written']:>6}  "
            f"duplicates {s['duplicates']:>5}  quarantined {s['quarantined']:>3}"
        )
    typer.echo(f"\nModel {Path(result['model']).name} on airline_tweets/test.parquet:")
    typer.echo("  " + format_metrics(result["test_metrics"]))
    typer.echo(f"\nScored: {result['score']['counters']}")
    typer.echo("\nDaily sentiment per source, 17–24 Feb 2015 (DuckDB over aggregates/daily_sentiment):")
    typer.echo(result["daily_table"].to_string(index=False))
    home_dir = Path(result["warehouse"])
    typer.echo(f"\nWhere everything went (warehouse {home_dir}):")
    for name in ("raw", "quarantine", "models", "scored", "aggregates"):
        typer.echo(f"  {name + '/':<12} {home_dir / name}")
    typer.echo(f"  chart       {result['chart']}")
    typer.echo(f"\nDone in {time.perf_counter() - started:.0f} s. Ask more with: sentiment query \"SELECT ...\"")


@app.command()
def ingest(home: Path = HomeOption, data_dir: Path = DataOption, json_out: bool = typer.Option(False, "--json")):
    """Ingest the demo's dated corpora (airline tweets, r/worldnews headlines) into raw/."""
    from ingestion.ingest import ingest_source
    from ingestion.sources import demo_sources
    from sentiment.warehouse import Warehouse

    settings = _settings(home, data_dir)
    summaries = [ingest_source(spec, Warehouse(settings.home)).as_dict() for spec in demo_sources(settings.data_dir)]
    if json_out:
        typer.echo(json.dumps(summaries))
    else:
        for s in summaries:
            typer.echo(json.dumps(s))


@app.command()
def train(
    data: Path = typer.Option(..., help="Directory with train.parquet and validation.parquet (text, label)."),
    out: Path = typer.Option(..., help="Model directory to write."),
    epochs: int = typer.Option(6, help="Passes over the training data; the best validation epoch is kept."),
    batch_size: int = typer.Option(64),
    lr: float = typer.Option(2e-3, help="Adam learning rate."),
    max_tokens: int = typer.Option(128, help="Texts are cut to this many tokens."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    class_weights: bool = typer.Option(False, help="Weight the loss by inverse class frequency."),
    max_train_samples: int = typer.Option(None, help="Use only this many training rows (quick runs)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="One epoch on 256 rows: checks the set-up."),
):
    """Train the LSTM classifier; the best epoch on validation is saved (state_dict + config + vocab)."""
    from sentiment_model.train import TrainConfig
    from sentiment_model.train import train as run_train

    _settings()
    if dry_run:
        epochs, max_train_samples = 1, 256
    try:
        cfg = TrainConfig(
            data=data, out=out, epochs=epochs, batch_size=batch_size, lr=lr, max_tokens=max_tokens,
            device=device, class_weights=class_weights, max_train_samples=max_train_samples,
        )
        typer.echo(str(run_train(cfg)))
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))


@app.command()
def evaluate(
    model: Path = typer.Option(..., help="Model directory."),
    data: Path = typer.Option(..., help="Parquet file with text and label."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
):
    """Accuracy, macro-F1 and macro-recall of a model on labelled data."""
    from sentiment.report import format_metrics
    from sentiment_model.evaluate import evaluate as run_evaluate

    _settings()
    try:
        result = run_evaluate(model, data)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(json.dumps(result) if json_out else format_metrics(result))


@app.command()
def predict(
    texts: list[str] = typer.Argument(..., help="Texts to classify."),
    model: Path = typer.Option(None, help="Model directory (default: the warehouse's current model)."),
    home: Path = HomeOption,
    json_out: bool = typer.Option(False, "--json"),
):
    """Label texts with a model: label, class probabilities and score."""
    from sentiment.warehouse import Warehouse
    from sentiment_model.predict import Predictor

    settings = _settings(home)
    try:
        rows = Predictor.load(model or Warehouse(settings.home).current_model()).predict(texts)
    except FileNotFoundError as err:
        _fail(str(err))
    for text, row in zip(texts, rows, strict=True):
        if json_out:
            typer.echo(json.dumps({"text": text, **row}))
        else:
            probs = " ".join(f"{k} {v:.2f}" for k, v in row["probabilities"].items())
            typer.echo(f"{row['label']:<9} {probs}  | {text}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def score(
    ctx: typer.Context,
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD."),
    model: Path = typer.Option(None, help="Model directory (default: models/current)."),
    source: list[str] = typer.Option(None, help="Only this source (repeatable); the days' aggregates stay whole."),
    device: str = typer.Option("CPU", help="CPU or GPU, where RunInference runs."),
    max_batch_tokens: int = typer.Option(16384, help="Tokens per inference batch."),
    max_tokens: int = typer.Option(None, help="Cut texts to this many tokens (default: the model's limit)."),
    topics: Path = typer.Option(None, help="Topics TOML (default: <home>/topics.toml when present)."),
    torch_threads: int = typer.Option(None, help="Torch intra-op threads per worker."),
    profile: Path = typer.Option(None, help="Runner profile, e.g. infra/runners/flink.yaml; flags given here win."),
    home: Path = HomeOption,
    json_out: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
):
    """Score the raw documents of a date range with Beam and replace those days' outputs.

    Writes scored/, aggregates/daily_sentiment, aggregates/daily_topic_sentiment and one
    manifest per day. Extra arguments are Beam pipeline options, e.g.
    --runner=PortableRunner --job_endpoint=localhost:8099 --environment_type=LOOPBACK
    """
    from pipelines.score import ScoreJob, score_range

    settings = _settings(home)
    try:
        job = ScoreJob(
            home=settings.home, start=date.fromisoformat(start), end=date.fromisoformat(end),
            model_dir=model, sources=source or None, device=device, max_batch_tokens=max_batch_tokens,
            max_tokens=max_tokens, topics_file=topics, torch_threads=torch_threads, profile=profile,
            beam_args=list(ctx.args),
        )
        summary = score_range(job)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(json.dumps(summary.as_dict()) if json_out else json.dumps(summary.as_dict(), indent=2))


@app.command()
def query(
    sql: str = typer.Argument(
        ..., help="SQL over the views documents, quarantine, scored, daily_sentiment, daily_topic_sentiment."
    ),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    home: Path = HomeOption,
):
    """Ask the warehouse a question in SQL (DuckDB over the Parquet tables)."""
    from sentiment.query import run_query
    from sentiment.warehouse import Warehouse

    settings = _settings(home)
    try:
        frame = run_query(Warehouse(settings.home), sql)
    except ValueError as err:
        _fail(str(err))
    if format is Format.csv:
        frame.to_csv(sys.stdout, index=False)
    elif format is Format.json:
        typer.echo(frame.to_json(orient="records", date_format="iso"))
    else:
        typer.echo(frame.to_string(index=False))


@app.command("models")
def models_list(home: Path = HomeOption):
    """List model versions, their metrics, and which one is current."""
    from sentiment.models import list_models
    from sentiment.warehouse import Warehouse

    settings = _settings(home)
    for row in list_models(Warehouse(settings.home)):
        typer.echo(json.dumps(row))


@datasets_app.command("download")
def datasets_download(
    names: list[str] = typer.Argument(None, help="Datasets to fetch (default: the demo's two)."),
    dest: Path = typer.Option(None, help="Where the dataset folders go (default: the datasets directory)."),
    cache: Path = typer.Option(None, help="Cache for the verified originals (default: DEST/.cache)."),
):
    """Download the demo's public datasets, verify their SHA-256, convert them to Parquet."""
    from sentiment.datasets import download

    settings = _settings()
    dest = dest or settings.data_dir
    try:
        for path in download(names or ["airline_tweets", "reddit_worldnews"], dest, cache or dest / ".cache"):
            typer.echo(str(path))
    except (ValueError, OSError, RuntimeError) as err:
        _fail(f"{err}\n  (the canonical sources need internet access; on offline machines use SENTIMENT_DATA_DIR)")


if __name__ == "__main__":
    app()
