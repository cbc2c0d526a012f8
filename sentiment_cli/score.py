"""Score date ranges with Beam: one job (score) or a resumable Prefect flow of bounded jobs (backfill)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from sentiment_cli.common import (
    HomeOption,
    app,
    fail,
    settings_for,
)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True,
                                "help_option_names": []}, add_help_option=False)
def score(ctx: typer.Context):
    """Score the raw documents of a date range with Beam and replace those days' outputs (--help: every option).

    The options are the scoring job's own (pipelines.score.ScoreJob, also `python -m pipelines.score`);
    flags it does not know are Beam pipeline options.
    """
    from pipelines.score import parse_args, score_range

    settings_for()
    try:
        job, json_out = parse_args(list(ctx.args), prog="sentiment score")
        summary = score_range(job)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    typer.echo(json.dumps(summary.as_dict()) if json_out else json.dumps(summary.as_dict(), indent=2))


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

    settings = settings_for(home)
    try:
        result = backfill_flow(
            settings.home, date.fromisoformat(start), date.fromisoformat(end), source or None, force,
            max_concurrency, single_run, progress=not json_out, profile=profile, chunk_days=chunk_days,
            chunk_documents=chunk_documents,
        )
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(f"done {len(result.done)}  skipped {len(result.skipped)}  without data {len(result.empty)}  "
                   f"failed {len(result.failed)}  documents {result.documents}")
        for day, error in result.failed.items():
            typer.echo(f"  failed {day}: {error}")
    if result.failed:
        raise typer.Exit(code=1)
