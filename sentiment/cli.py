"""The `sentiment` command line: the front door to ingestion, training, scoring and queries."""

from __future__ import annotations

import json
import os
import time
from datetime import date
from enum import StrEnum
from pathlib import Path

import typer

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # offline machines: no telemetry
# Prefect's local ephemeral server can take longer than its default 20 s to start on a busy 2-core machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

app = typer.Typer(
    help="Sentiment analytics for social and news text: ingest dumps into a Parquet lake, "
    "train the LSTM classifier, score with Apache Beam, query the tables with SQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="Fetch the public datasets (for machines without the shared data directory).")
app.add_typer(datasets_app, name="datasets")
models_app = typer.Typer(help="The model registry under models/: versions, metrics, the current one.")
app.add_typer(models_app, name="models")

HomeOption = typer.Option(None, "--home", help="Warehouse directory (env SENTIMENT_HOME, default ./warehouse).")
DataOption = typer.Option(
    None, "--data-dir", help="Datasets directory (env SENTIMENT_DATA_DIR, default ../shared/data)."
)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _settings(home: Path | None = None, data_dir: Path | None = None, beam: bool = True):
    from sentiment.logs import configure_logging
    from sentiment.settings import Settings

    configure_logging(beam=beam)
    settings = Settings.from_env()
    return Settings(
        home=(home or settings.home).resolve(),
        data_dir=(data_dir or settings.data_dir).resolve(),
    )


def _verbose(on: bool) -> None:
    if on:
        os.environ["SENTIMENT_VERBOSE"] = "1"  # read by every scoring job this command starts


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@app.command()
def demo(
    home: Path = HomeOption,
    data_dir: Path = DataOption,
    epochs: int = typer.Option(None, help="Training epochs (default: the training default)."),
    verbose: bool = typer.Option(False, "--verbose", help="Show Beam's worker output (default: a log file in "
                                 "the warehouse, <home>/logs/beam-workers.log)."),
):
    """Run the whole pipeline once as a Prefect flow: ingest, train, evaluate, score with Beam, report."""
    from sentiment.settings import DataMissingError

    _verbose(verbose)
    settings = _settings(home, data_dir)
    from flows.demo import demo_flow
    from sentiment.report import format_metrics, format_scoring

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
    how = "trained now" if result["model_trained"] else "reused: same training data"
    typer.echo(f"\nGeneral model {Path(result['model']).name} ({how}):")
    for split, metrics in result["evaluations"].items():
        typer.echo(f"  {split:<34} " + format_metrics(metrics))
    typer.echo(f"\nScored: {format_scoring(result['score'])}")
    typer.echo("\nDaily sentiment per source, 17–24 Feb 2015 (DuckDB over aggregates/daily_sentiment):")
    typer.echo(result["daily_table"].to_string(index=False))
    home_dir = Path(result["warehouse"])
    typer.echo(f"\nWhere everything went (warehouse {home_dir}):")
    for name in ("raw", "quarantine", "models", "scored", "aggregates"):
        typer.echo(f"  {name + '/':<12} {home_dir / name}")
    typer.echo(f"  chart       {result['chart']}")
    typer.echo(f"\nDone in {time.perf_counter() - started:.0f} s. Ask more with: sentiment query \"SELECT ...\"")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ingest(
    ctx: typer.Context,
    config: Path = typer.Option(None, help="A sources file (TOML): each \\[sources.NAME] table with preset, "
                                "path, fields."),
    source: list[str] = typer.Option(None, help="Only this source (repeatable); with --input, its name."),
    input: str = typer.Option(None, "--input", help="Ingest one file, directory, glob or feed URL without a "
                              "sources file."),
    preset: str = typer.Option("generic", help="With --input: generic, twitter, reddit, mastodon, bluesky, gdelt, "
                               "hackernews, youtube, news or feed (README: Ingestion, the formats table)."),
    format: str = typer.Option(None, help="With --input: jsonl, csv, parquet or feed (default: the preset's, else "
                               "from the file's name, else from its first bytes)."),
    encoding: str = typer.Option(None, help="With --input: the text encoding of JSONL/CSV files (e.g. cp1252), "
                                 "or auto to detect it per file."),
    published_at: str = typer.Option(None, "--published-at", help="With --input: the time of records that carry "
                                     "none (an undated corpus), e.g. 2025-01-01."),
    settings_set: list[str] = typer.Option(None, "--set", help="With --input: any source setting as KEY=VALUE "
                                           "(repeatable; a TOML value where it is one), e.g. --set "
                                           "text_field=Description --set combine_title=true."),
    start: str = typer.Option(None, "--from", help="Only records dated from this day (YYYY-MM-DD)."),
    end: str = typer.Option(None, "--to", help="Only records dated up to this day (YYYY-MM-DD)."),
    max_quarantined: float = typer.Option(None, "--max-quarantined", min=0.0, max=1.0,
                                          help="Exit 1 when a source quarantines more than this share of its "
                                          "records (e.g. 0.5), for pipelines that must not go on with an empty day."),
    workers: int = typer.Option(None, help="Processes cleaning blocks and merging days (default: one per core "
                                "for inputs of 64 MiB or more, else this one)."),
    use_beam: bool = typer.Option(False, "--beam", help="Run the same ingestion as a Beam job (the local runner, "
                                  "or the --profile's: Flink, Spark, a cluster); extra arguments are Beam options."),
    profile: Path = typer.Option(None, help="With --beam: a runner profile, e.g. infra/runners/flink-local.yaml."),
    home: Path = HomeOption,
    data_dir: Path = DataOption,
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object with the totals."),
):
    """Ingest dumps into raw/: clean, deduplicate, quarantine bad records (read = written + duplicates +
    quarantined + out of range). With no --config or --input, the demo's two corpora from the
    datasets directory.

    JSONL and Parquet are parsed and cleaned a block at a time with pyarrow;
    a record the batch path cannot vouch for goes record by record, and is
    stored or quarantined exactly as it would be alone. --beam runs the same
    ingestion as a Beam job, on any runner profile.

    An input that cannot be read (or a source whose path matches nothing) is
    that input's error: the others are still ingested, the error is listed,
    and the command exits 1.
    """
    from ingestion.config import parse_settings, specs_for
    from ingestion.diagnose import over_limit
    from ingestion.ingest import ingest_each, ingest_source
    from sentiment.warehouse import Warehouse

    if (profile or ctx.args) and not use_beam:
        _fail("--profile and Beam options need --beam")
    settings = _settings(home, data_dir, beam=use_beam)
    try:
        if settings_set and not input:
            raise ValueError("--set goes with --input; in a sources file, write the settings in its tables")
        specs = specs_for(config, settings.data_dir, source, input, preset, format=format, encoding=encoding,
                          published_at=published_at, **parse_settings(settings_set or []))
        window = {"start": date.fromisoformat(start) if start else None,
                  "end": date.fromisoformat(end) if end else None}
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    warehouse = Warehouse(settings.home)
    if use_beam:
        from pipelines.ingest import ingest_with_beam

        def run(spec):
            return ingest_with_beam(spec, warehouse, profile=profile, beam_args=list(ctx.args), **window)
    else:
        def run(spec):
            return ingest_source(spec, warehouse, progress=not json_out, workers=workers, **window)
    summaries = [s.as_dict() for s in ingest_each(specs, run)]
    totals = {k: sum(s[k] for s in summaries) for k in ("read", "written", "duplicates", "quarantined",
                                                        "out_of_range", "chars_replaced", "entities_decoded",
                                                        "chars_removed")}
    failed = [s["source"] for s in summaries if s["errors"]]
    too_many = over_limit(summaries, max_quarantined)
    if json_out:
        typer.echo(json.dumps({**totals, "errors": [e for s in summaries for e in s["errors"]],
                               "failed_sources": failed, "over_max_quarantined": too_many, "sources": summaries}))
    else:
        for s in summaries:
            fixes = "".join(f"  {label} {s[key]}" for key, label in (("chars_replaced", "characters replaced"),
                            ("entities_decoded", "entities decoded"), ("chars_removed", "invisible removed"))
                            if s[key])
            typer.echo(f"{s['source']:<20} read {s['read']:>8}  written {s['written']:>8}  "
                       f"duplicates {s['duplicates']:>7}  quarantined {s['quarantined']:>6}"
                       + (f"  out of range {s['out_of_range']}" if s["out_of_range"] else "") + fixes)
            for warning in s["warnings"]:
                typer.secho(f"  warning: {warning}", fg=typer.colors.YELLOW, err=True)
            for error in s["errors"]:
                typer.secho(f"  error: {error['error']}", fg=typer.colors.RED, err=True)
        for line in too_many:
            typer.secho(f"error: {line} (--max-quarantined)", fg=typer.colors.RED, err=True)
    if failed or too_many:
        raise typer.Exit(code=1)


@app.command()
def train(
    data: Path = typer.Option(None, help="Directory with train.parquet (+ validation.parquet), or one Parquet file "
                              "(text, label). Without validation data 10% of train is held out."),
    dataset: str = typer.Option(None, help="A dataset under the data directory instead of --data, e.g. sst2; "
                                "`general`: every English labelled set mapped to negative/neutral/positive, balanced "
                                "(docs/model.md, \"The general model\"); `general-multilingual`: the same plus "
                                "tweets in ar, de, es, fr, hi, it, pt (umsab_multilingual): a model that reads "
                                "eight languages."),
    out: Path = typer.Option(None, help="Model directory to write (or use --register)."),
    config: Path = typer.Option(None, help="TOML file of training settings (TrainConfig's names); flags win."),
    recipe: str = typer.Option(None, help="auto (default: by data size, text length and sources), short, small, "
                               "long or general."),
    epochs: int = typer.Option(None, help="Most passes over the data (early stopping may end sooner)."),
    batch_size: int = typer.Option(None, help="Documents per step."),
    lr: float = typer.Option(None, help="Peak AdamW learning rate."),
    max_tokens: int = typer.Option(None, help="Texts are cut to this many tokens."),
    device: str = typer.Option(None, help="auto (CUDA when available), cpu or cuda."),
    class_weights: bool = typer.Option(None, "--class-weights/--no-class-weights",
                                       help="Weight the loss by inverse class frequency (skewed labels)."),
    seed: int = typer.Option(None, help="Seed for the holdout, shuffling, initialisation and dropout."),
    embeddings: str = typer.Option(None, help="Word vectors to start from: auto (default: pretrained on the datasets "
                                   "directory's unlabelled text, built once and cached), none, or an .npz file."),
    pretrained: str = typer.Option(None, help="Start the LSTM from a pretrained language model: a .pt file from "
                                   "`sentiment pretrain`, auto (the cached one, built once: up to 30 min on 2 cores), "
                                   "or none (default)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from OUT/train_state.pt after an interruption."),
    max_train_samples: int = typer.Option(None, help="Use only this many training rows (quick runs)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="One epoch on 256 rows, random vectors: checks the set-up."),
    register: bool = typer.Option(
        False, "--register", help="Run the train flow: add the model to the warehouse and make it current "
        "if it is at least as good as the current one on --eval-data."
    ),
    eval_data: Path = typer.Option(None, help="With --register: the fixed evaluation set (default DATA/test.parquet)."),
    metric: str = typer.Option("macro_f1", help="With --register: accuracy, macro_f1 or macro_recall."),
    home: Path = HomeOption,
    data_dir: Path = DataOption,
):
    """Train the LSTM classifier: AdamW, warm-up + linear decay, early stopping on validation macro-F1.

    The best epoch is saved as weights (state_dict) + model.json + vocab.json, with a training-curve PNG
    and a model card. Unset settings come from the recipe chosen for the data (see --recipe).
    """
    from dataclasses import replace

    from sentiment_model import general
    from sentiment_model.corpus import resolve_embeddings
    from sentiment_model.pretrain import resolve as resolve_pretrained
    from sentiment_model.train import TrainConfig
    from sentiment_model.train import train as run_train

    settings = _settings(home, data_dir)
    if (data is None) == (dataset is None):
        _fail("give --data DIR_OR_PARQUET or --dataset NAME (one of them)")
    mix_settings: dict = {}
    if dataset in general.NAMED:
        mix, mix_settings = general.NAMED[dataset]
        data = general.cached(settings.data_dir, settings.general_cache, mix)
    data = data if data is not None else settings.data_dir / dataset
    if dry_run:  # quick: no word-vector pretraining unless asked for
        epochs, max_train_samples, embeddings = 1, 256, embeddings or "none"
    overrides = {"recipe": recipe, "epochs": epochs, "batch_size": batch_size, "lr": lr, "max_tokens": max_tokens,
                 "device": device, "class_weights": class_weights, "seed": seed, "embeddings": embeddings,
                 "max_train_samples": max_train_samples, "pretrained": pretrained}
    overrides = {**mix_settings, **{k: v for k, v in overrides.items() if v is not None}}
    if register:
        from flows.train import train_flow

        typer.echo(json.dumps(train_flow(settings.home, data, eval_data, metric, overrides)))
        return
    if out is None:
        _fail("give --out DIR, or --register to add the model to the warehouse")
    try:
        spec = overrides.pop("embeddings", None)
        if config is not None:
            cfg = TrainConfig.from_file(config, data=data, out=out, resume=resume, **overrides)
        else:
            cfg = TrainConfig(data=data, out=out, resume=resume, **overrides)
        spec = spec or cfg.embeddings or "auto"
        vectors = resolve_embeddings(spec, settings.data_dir, settings.embeddings_cache, cfg.embed_dim)
        lm = resolve_pretrained(cfg.pretrained, settings.data_dir, settings.lm_cache, cfg.resolved_device())
        trained = run_train(replace(cfg, embeddings=vectors, pretrained=lm))
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    meta = json.loads((trained / "model.json").read_text())
    best = meta["metrics"]["validation"]
    typer.echo(
        f"best epoch {meta['best_epoch']} of {len(meta['history'])} ({meta['train_config']['recipe']} recipe, "
        f"{meta['train_seconds']:.0f} s on {meta['device']}): validation accuracy {best['accuracy']:.3f}, "
        f"macro-F1 {best['macro_f1']:.3f}; curve {trained / 'training_curve.png'}, card {trained / 'MODEL_CARD.md'}",
        err=True,
    )
    typer.echo(str(trained))


@app.command()
def evaluate(
    model: Path = typer.Option(..., help="Model directory."),
    data: Path = typer.Option(..., help="Parquet file with text and label."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    png: Path = typer.Option(None, "--png", help="Also draw the confusion matrix as a PNG."),
    all_labels: bool = typer.Option(False, "--all-labels", help="Decide among all the model's labels even when "
                                    "the data has fewer (by default binary data on a three-class model is decided "
                                    "between its two labels)."),
):
    """Accuracy, macro-F1, macro-recall, per-class precision/recall, confusion matrix and calibration (ECE).

    Data whose labels are a subset of the model's (negative/positive reviews on the three-class general
    model) is decided among the data's labels only; the report says so (`decided_among` in --json)."""
    from sentiment_model.evaluate import evaluate as run_evaluate
    from sentiment_model.evaluate import format_report
    from sentiment_model.plots import confusion_matrix_png

    _settings()
    try:
        result = run_evaluate(model, data, subset=not all_labels)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(json.dumps(result) if json_out else format_report(result))
    if png:
        title = f"{Path(model).name} on {Path(data).parent.name}/{Path(data).name}"
        path = confusion_matrix_png(result["confusion"]["matrix"], result["confusion"]["labels"], png, title)
        typer.echo(f"confusion matrix -> {path}", err=True)


@app.command()
def predict(
    texts: list[str] = typer.Argument(..., help="Texts to classify."),
    model: Path = typer.Option(None, help="Model directory (default: the warehouse's current model)."),
    home: Path = HomeOption,
    json_out: bool = typer.Option(False, "--json"),
):
    """Label texts with a model: label, class probabilities and score. A text in a language the
    model does not read is still labelled, with a warning (the scoring job skips such documents)."""
    from sentiment.language import detect_languages
    from sentiment.warehouse import Warehouse
    from sentiment_model import checkpoint
    from sentiment_model.languages import UNDETERMINED, model_languages
    from sentiment_model.predict import Predictor

    settings = _settings(home)
    try:
        directory = model or Warehouse(settings.home).current_model()
        rows = Predictor.load(directory).predict(texts)
        reads = model_languages(checkpoint.read_meta(directory))
    except FileNotFoundError as err:
        _fail(str(err))
    for text, row, lang in zip(texts, rows, detect_languages(texts), strict=True):
        unread = lang not in (*reads, UNDETERMINED)
        if json_out:
            typer.echo(json.dumps({"text": text, **row, "lang": lang, "model_reads_lang": not unread}))
            continue
        probs = " ".join(f"{k} {v:.2f}" for k, v in row["probabilities"].items())
        typer.echo(f"{row['label']:<9} {probs}  | {text}")
        if unread:
            typer.secho(f"  warning: this text looks {lang}; the model reads {', '.join(reads)}: its label means "
                        "little (scoring skips such documents)", fg=typer.colors.YELLOW, err=True)


@app.command()
def explain(
    text: str = typer.Argument(..., help="The text to explain."),
    model: Path = typer.Option(None, help="Model directory (default: the warehouse's current model)."),
    png: Path = typer.Option(None, "--png", help="Also draw the table as a heatmap PNG."),
    home: Path = HomeOption,
    json_out: bool = typer.Option(False, "--json", help="One JSON object per token."),
):
    """Token by token: the running class probabilities and the LSTM's input, forget and output gates."""
    from sentiment.warehouse import Warehouse
    from sentiment_model import checkpoint
    from sentiment_model.explain import explain as run_explain
    from sentiment_model.explain import plot_explanation

    settings = _settings(home)
    try:
        bundle = checkpoint.load(model or Warehouse(settings.home).current_model())
        steps = run_explain(bundle, text)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    if json_out:
        for step in steps:
            typer.echo(json.dumps(step.__dict__))
    else:
        labels = list(steps[0].probabilities)
        typer.echo(f"{'token':<14}" + "".join(f"{'P(' + lab + ')':>13}" for lab in labels)
                   + f"{'input':>8}{'forget':>8}{'output':>8}")
        for step in steps:
            typer.echo(f"{step.token[:13]:<14}" + "".join(f"{step.probabilities[lab]:>13.2f}" for lab in labels)
                       + f"{step.input_gate:>8.2f}{step.forget_gate:>8.2f}{step.output_gate:>8.2f}")
    if png:
        typer.echo(f"heatmap -> {plot_explanation(steps, png, text[:80])}", err=True)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                "help_option_names": []}, add_help_option=False)
def score(ctx: typer.Context):
    """Score the raw documents of a date range with Beam and replace those days' outputs (--help: every option).

    The options are the scoring job's own (pipelines.score.ScoreJob, also `python -m pipelines.score`);
    flags it does not know are Beam pipeline options.
    """
    from pipelines.score import parse_args, score_range

    _settings()
    try:
        job, json_out = parse_args(list(ctx.args), prog="sentiment score")
        summary = score_range(job)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(json.dumps(summary.as_dict()) if json_out else json.dumps(summary.as_dict(), indent=2))


@app.command()
def query(
    sql: str = typer.Argument(
        ..., help="SQL over the views documents, quarantine, scored, daily_sentiment, daily_topic_sentiment, "
        "alerts. Use $name placeholders with --param name=value for values."
    ),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    out: Path = typer.Option(None, "--out", help="Write the result to this file instead of the terminal."),
    param: list[str] = typer.Option(None, "--param", help="A bound parameter, name=value (repeatable)."),
    home: Path = HomeOption,
):
    """Ask the warehouse a question in SQL (DuckDB over the Parquet tables)."""
    from sentiment.query import run_query
    from sentiment.warehouse import Warehouse

    settings = _settings(home)
    params = dict(p.split("=", 1) for p in param or [] if "=" in p) or None
    if param and (params is None or len(params) != len(param)):
        _fail("--param takes name=value")
    if format is Format.parquet and out is None:
        _fail("--format parquet needs --out FILE")
    try:
        frame = run_query(Warehouse(settings.home), sql, params)
    except ValueError as err:
        _fail(str(err))
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
    by: str = typer.Option("day", help="Period: day, week or month."),
    chart: Path = typer.Option(None, help="Also draw mean score (with its interval) and volume to this PNG."),
    format: Format = typer.Option(Format.table, "--format", help="Output format."),
    out: Path = typer.Option(None, "--out", help="Write the table to this file."),
    home: Path = HomeOption,
):
    """Sentiment over time for a source or topic: documents, shares, mean score and its 95% interval."""
    from sentiment.trend import plot_trend
    from sentiment.trend import trend as run_trend
    from sentiment.warehouse import Warehouse

    settings = _settings(home)
    try:
        frame = run_trend(
            Warehouse(settings.home), source, topic,
            date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None, by, lang=lang,
        )
    except ValueError as err:
        _fail(str(err))
    if format is Format.parquet and out is None:
        _fail("--format parquet needs --out FILE")
    if frame.empty:
        typer.echo("no data for these filters", err=True)
    _emit(frame, format, out)
    if chart and not frame.empty:
        what = " / ".join(x for x in (source, topic) if x) or "all sources"
        typer.echo(f"chart -> {plot_trend(frame, chart, f'Sentiment per {by}: {what}', by)}", err=True)


@app.command()
def backfill(
    start: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD."),
    source: list[str] = typer.Option(None, help="Only this source (repeatable)."),
    force: bool = typer.Option(False, help="Re-score days that are already complete."),
    max_concurrency: int = typer.Option(1, help="Days scored at once."),
    single_run: bool = typer.Option(False, help="All due days in one Beam job."),
    chunk_days: int = typer.Option(366, help="At most this many days per Beam job (1: one job per day)."),
    chunk_documents: int = typer.Option(50_000, help="At most this many documents per Beam job (a day is never "
                                        "split)."),
    profile: Path = typer.Option(None, help="Runner profile, e.g. infra/runners/flink-local.yaml; a Flink or Spark "
                                 "job server it names starts once for the whole backfill."),
    home: Path = HomeOption,
    json_out: bool = typer.Option(False, "--json", help="Print the summary as one JSON object."),
):
    """Score a date range as a Prefect flow, in Beam jobs of bounded size (--chunk-days, --chunk-documents);
    complete days are skipped, so it resumes; a failed job is re-run day by day and bad days are reported."""
    from flows.backfill import backfill_flow

    settings = _settings(home)
    try:
        result = backfill_flow(
            settings.home, date.fromisoformat(start), date.fromisoformat(end), source or None, force,
            max_concurrency, single_run, progress=not json_out, profile=profile, chunk_days=chunk_days,
            chunk_documents=chunk_documents,
        )
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(f"done {len(result.done)}  skipped {len(result.skipped)}  without data {len(result.empty)}  "
                   f"failed {len(result.failed)}  documents {result.documents}")
        for day, error in result.failed.items():
            typer.echo(f"  failed {day}: {error}")
    if result.failed:
        raise typer.Exit(code=1)


@app.command()
def nightly(
    day: str = typer.Option(None, help="The day to score (default: the day that just ended)."),
    timezone: str = typer.Option("UTC", help="Time zone of 'the day that just ended'."),
    lag_days: int = typer.Option(1, help="Score the day this many days before today."),
    config: Path = typer.Option(None, help="Sources file to ingest (default: the demo's corpora)."),
    profile: Path = typer.Option(None, help="Runner profile for the scoring, e.g. infra/runners/flink-local.yaml."),
    home: Path = HomeOption,
    data_dir: Path = DataOption,
):
    """Run the nightly flow once now: ingest, score (catching up missed days), check."""
    from flows.nightly import nightly_flow

    settings = _settings(home, data_dir)
    result = nightly_flow(home=settings.home, data_dir=None if config else settings.data_dir,
                          day=date.fromisoformat(day) if day else None, config=config,
                          timezone=timezone, lag_days=lag_days, profile=profile)
    typer.echo(json.dumps(result, default=str))


@app.command()
def deploy(
    cron: str = typer.Option("0 2 * * *", help="When the nightly run starts."),
    timezone: str = typer.Option("UTC", help="Time zone of the cron schedule and of 'the day that ended'."),
    profile: Path = typer.Option(None, help="Runner profile the nightly and backfill runs score with, e.g. "
                                 "infra/runners/flink-local.yaml (default: Beam's local runner)."),
    home: Path = HomeOption,
    data_dir: Path = DataOption,
):
    """Register the nightly, backfill and train deployments with the Prefect API (PREFECT_API_URL)."""
    from flows.deploy import DeployConfig, register

    settings = _settings(home, data_dir)
    config = DeployConfig(settings.home, settings.data_dir, cron, timezone, profile=profile)
    for deployment_id in register(config):
        typer.echo(deployment_id)


@app.command()
def serve(
    cron: str = typer.Option("0 2 * * *", help="When the nightly run starts."),
    timezone: str = typer.Option("UTC", help="Time zone of the cron schedule."),
    home: Path = HomeOption,
    data_dir: Path = DataOption,
):
    """Run the deployments from this process (one machine): nightly on its schedule, the rest on demand."""
    from flows.deploy import DeployConfig
    from flows.deploy import serve as run_serve

    settings = _settings(home, data_dir)
    run_serve(DeployConfig(settings.home, settings.data_dir, cron, timezone))


@models_app.command("list")
def models_list(
    home: Path = HomeOption,
    json_out: bool = typer.Option(False, "--json", help="One JSON object per line."),
):
    """List model versions, their metrics, and which one is current."""
    from sentiment.models import list_models
    from sentiment.warehouse import Warehouse

    settings = _settings(home)
    rows = list_models(Warehouse(settings.home))
    if not rows:
        typer.echo(f"no models under {Warehouse(settings.home).models}: run `sentiment train --register`", err=True)
    for row in rows:
        if json_out:
            typer.echo(json.dumps(row))
            continue
        test = row["metrics"].get("test") or row["metrics"].get("validation") or {}
        scores = "  ".join(f"{k} {v:.3f}" for k, v in test.items() if k != "n")
        typer.echo(f"{'*' if row['current'] else ' '} {row['version']}  {scores}")


@models_app.command("import")
def models_import(
    model: Path = typer.Argument(..., help="A trained model directory (`sentiment train --out DIR`)."),
    current: bool = typer.Option(False, "--current", help="Make it the model that scoring uses."),
    home: Path = HomeOption,
):
    """Copy a trained model into the warehouse's registry (kept as it is when that version is there already)."""
    from sentiment.models import register
    from sentiment.warehouse import Warehouse
    from sentiment_model import checkpoint

    settings = _settings(home)
    try:
        checkpoint.check(model)
        target = register(Warehouse(settings.home), model, None, make_current=current, copy=True)
    except (ValueError, FileNotFoundError) as err:
        _fail(f"{model} is not a model directory this project can load: {err}")
    reads = ", ".join(checkpoint.read_meta(target).get("languages", ["en"]))
    typer.echo(f"{target} (reads {reads}){'; now current' if current else ''}")


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


@app.command()
def embeddings(
    out: Path = typer.Option(..., help="The .npz file to write (tokens + vectors)."),
    text: list[Path] = typer.Option(None, help="Parquet files with a text column (repeatable); default: every "
                                    "dataset's train split and the unlabelled corpora, never a test split."),
    dim: int = typer.Option(128, help="Vector size: the model's embed_dim."),
    window: int = typer.Option(5, help="Words either side that count as context."),
    max_words: int = typer.Option(60000, help="Keep the most frequent words."),
    data_dir: Path = DataOption,
    show: list[str] = typer.Option(None, help="Print the nearest words of these (a quick look at quality)."),
):
    """Pretrain word vectors on unlabelled text (PPMI + SVD); start training from them with `train --embeddings`."""
    from sentiment_model.corpus import pretraining_files, texts
    from sentiment_model.embeddings import EmbeddingConfig, build

    settings = _settings(None, data_dir)
    try:
        files = list(text) if text else pretraining_files(settings.data_dir)
        vectors = build(texts(files), EmbeddingConfig(dim=dim, window=window, max_words=max_words))
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    typer.echo(f"{len(vectors.tokens)} words x {dim} from {len(files)} files -> {vectors.save(out)}")
    for word in show or []:
        typer.echo(f"  {word}: {', '.join(vectors.nearest(word)) or '(not in the vocabulary)'}")


@app.command()
def pretrain(
    out: Path = typer.Option(None, help="The .pt file to write; default: the warehouse's cache, keyed by the "
                             "data and settings (built once, reused by `train --pretrained auto`)."),
    epochs: int = typer.Option(4, help="Most passes over the text."),
    budget_minutes: float = typer.Option(30.0, help="Stop after this much training time."),
    max_tokens: int = typer.Option(64, help="Texts are cut to their first this many tokens."),
    device: str = typer.Option("auto", help="auto (CUDA when available), cpu or cuda."),
    home: Path = HomeOption,
    data_dir: Path = DataOption,
):
    """Pretrain a bidirectional LSTM language model on every dataset's training text and the unlabelled
    corpora (never a judged split), for `train --pretrained` to start the classifier's LSTM from."""
    import shutil

    import torch

    from sentiment_model.pretrain import PretrainConfig, cached

    settings = _settings(home, data_dir)
    resolved = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    try:
        cfg = PretrainConfig(epochs=epochs, budget_minutes=budget_minutes, max_tokens=max_tokens)
        path = cached(settings.data_dir, settings.lm_cache, cfg, resolved)
    except (ValueError, FileNotFoundError) as err:
        _fail(str(err))
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out)
        path = out
    typer.echo(str(path))


if __name__ == "__main__":
    app()
