"""Score date ranges with Beam: one job (score) or a resumable Prefect flow of bounded jobs (backfill)."""

from __future__ import annotations

import json

import typer

from sentiment.storage import as_parameter
from sentiment_cli.common import (
    app,
    fail,
    settings_for,
)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
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


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def backfill(ctx: typer.Context):
    """Score a date range as a Prefect flow, in Beam jobs of bounded size; complete days are skipped, so it
    resumes; a failed job is re-run day by day (--help: every option)."""
    from dataclasses import asdict

    from flows.backfill import BACKFILL_HELP, BackfillJob, backfill_flow
    from sentiment import options
    from sentiment.settings import Settings

    settings_for()
    cli = options.parser(BackfillJob, BACKFILL_HELP, "sentiment backfill", home=Settings.from_env().home)
    cli.add_argument("--json", action="store_true", default=False, help="print the summary as one JSON object")
    args = cli.parse_args(list(ctx.args))
    json_out = args.json
    try:
        job = options.build(BackfillJob, args)
        result = backfill_flow(**{**asdict(job), "home": as_parameter(job.home)}, progress=not json_out)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(
            f"done {len(result.done)}  skipped {len(result.skipped)}  without data {len(result.empty)}  "
            f"failed {len(result.failed)}  documents {result.documents}"
        )
        by_error: dict[str, list[str]] = {}
        for day, error in result.failed.items():
            by_error.setdefault(error, []).append(day)
        for error, days in by_error.items():  # one line per cause: a store that is down fails every day alike
            named = days[0] if len(days) == 1 else f"{len(days)} days ({days[0]}..{days[-1]})"
            typer.secho(f"  failed {named}: {error}", fg=typer.colors.RED, err=True)
    if result.failed:
        raise typer.Exit(code=1)
