"""Prefect tasks: each one calls a plain function. Retries only where I/O can fail transiently."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from prefect import task

from ingestion.ingest import IngestSummary, ingest_source
from ingestion.sources import SourceSpec
from pipelines.read import partition_files
from pipelines.score import ScoreJob, ScoreSummary, score_range
from sentiment.checks import Alert, run_checks, write_alerts
from sentiment.settings import Settings
from sentiment.storage import describe_store_error, location
from sentiment.warehouse import Warehouse
from sentiment_model.corpus import resolve_embeddings
from sentiment_model.evaluate import evaluate
from sentiment_model.general_model import cached_general_model
from sentiment_model.registry import register
from sentiment_model.train import TrainConfig, train


def _worth_retrying(task, task_run, state) -> bool:
    """Retry I/O that may recover (a network file system, an object store); not a source whose
    path matches nothing or whose settings are wrong: those fail the same way every time."""
    error = state.result(raise_on_failure=False)
    return not isinstance(error, FileNotFoundError | ValueError)


@task(retries=2, retry_delay_seconds=[2, 10], retry_condition_fn=_worth_retrying, task_run_name="ingest-{spec.name}")
def ingest_task(
    spec: SourceSpec,
    home: str | Path,
    start: date | None = None,
    end: date | None = None,
    beam: bool = False,
    profile: Path | None = None,
) -> IngestSummary:
    """The local ingestion, or (`beam`) the same as a Beam job on the profile's runner."""
    if beam or profile:
        from pipelines.ingest import ingest_with_beam

        return ingest_with_beam(spec, Warehouse(home), start=start, end=end, profile=profile)
    return ingest_source(spec, Warehouse(home), start=start, end=end)


def ingest_all(specs: list[SourceSpec], home: str | Path, **options) -> list[dict]:
    """`ingest_task` for every source, each with its retries; a source that still fails is reported
    in its summary (`errors`) and the others run on."""
    summaries = []
    for spec in specs:
        state = ingest_task(spec, home, return_state=True, **options)
        if state.is_completed():
            summaries.append(state.result().as_dict())
        else:
            try:
                state.result()
                error = state.message or "failed"
            except Exception as err:  # the task's own exception, already logged by Prefect
                error = describe_store_error(err) or f"{type(err).__name__}: {err}"
            summaries.append(IngestSummary(spec.name, errors=[{"input": str(spec.path), "error": error}]).as_dict())
    return summaries


@task(task_run_name="train")
def train_task(data: Path, home: str | Path, overrides: dict | None = None, data_dir: Path | None = None) -> Path:
    """Train into a staging directory; embeddings "auto" (the default) start from the datasets' word vectors."""
    staging = Warehouse(home).local("models", f".training-{uuid.uuid4().hex[:8]}")
    overrides = dict(overrides or {})
    data_dir = Path(data_dir) if data_dir else Settings.from_env().data_dir
    cache = Settings(home=location(home), data_dir=data_dir).embeddings_cache
    dim = overrides.get("embed_dim", TrainConfig.embed_dim)
    overrides["embeddings"] = resolve_embeddings(overrides.get("embeddings", "auto"), data_dir, cache, dim)
    return train(TrainConfig(data=data, out=staging, **overrides))


@task(task_run_name="general-model")
def general_model_task(home: str | Path, data_dir: Path, overrides: dict | None = None) -> tuple[Path, bool]:
    """The general model for `data_dir`: trained once, then reused from the warehouse's cache while the
    training data and settings stay the same. Returns (model directory, trained now?)."""
    settings = Settings(home=location(home), data_dir=Path(data_dir))
    return cached_general_model(
        settings.data_dir, settings.general_cache, settings.embeddings_cache, overrides, settings.lm_cache
    )


@task(task_run_name="evaluate-{model_dir.name}")
def evaluate_task(model_dir: Path, data: Path) -> dict:
    return evaluate(model_dir, data)


@task(task_run_name="register-model")
def register_task(
    trained: Path, home: str | Path, test_metrics: dict, make_current: bool = True, copy: bool = False
) -> Path:
    return register(Warehouse(home), trained, test_metrics, make_current, copy)


@task(task_run_name="score-{start}-{end}")
def score_task(
    home: str | Path,
    start: date,
    end: date,
    model_dir: Path | None = None,
    sources: list[str] | None = None,
    beam_args: list[str] | None = None,
    only_days: list[str] | None = None,
    profile: Path | None = None,
) -> ScoreSummary:
    job = ScoreJob(
        home=home,
        start=start,
        end=end,
        model_dir=model_dir,
        sources=sources,
        beam_args=beam_args or [],
        only_days=only_days,
        profile=profile,
    )
    return score_range(job)


@task(retries=1, retry_delay_seconds=5, task_run_name="score-day-{day}")
def score_day_task(
    home: str | Path,
    day: str,
    sources: list[str] | None = None,
    beam_args: list[str] | None = None,
    profile: Path | None = None,
) -> ScoreSummary:
    """Replace exactly one day's outputs; safe to re-run."""
    return score_range(
        ScoreJob(home=home, start=day, end=day, sources=sources, beam_args=beam_args or [], profile=profile)
    )


@task(task_run_name="checks-{day}")
def checks_task(home: str | Path, day: date) -> list[Alert]:
    alerts = run_checks(Warehouse(home), day)
    write_alerts(Warehouse(home), day, alerts)
    return alerts


def raw_date_range(home: str | Path) -> tuple[date, date]:
    """The first and last date that has raw documents."""
    files = partition_files(str(Warehouse(home).raw), ("source", "date"))
    if not files:
        raise FileNotFoundError(f"no raw documents under {Warehouse(home).raw}: ingest first")
    days = sorted({date.fromisoformat(values["date"]) for _, values in files})
    return days[0], days[-1]
