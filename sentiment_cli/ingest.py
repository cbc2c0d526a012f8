"""`sentiment ingest`: dumps, exports and feeds into raw/."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from sentiment_cli.common import (
    DataOption,
    HomeOption,
    app,
    fail,
    settings_for,
)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def ingest(
    ctx: typer.Context,
    config: Path = typer.Option(
        None, help="A sources file (TOML): each \\[sources.NAME] table with preset, path, fields."
    ),
    source: list[str] = typer.Option(None, help="Only this source (repeatable); with --input, its name."),
    input: str = typer.Option(
        None, "--input", help="Ingest one file, directory, glob or feed URL without a sources file."
    ),
    preset: str = typer.Option(
        "generic",
        help="With --input: generic, twitter, reddit, mastodon, bluesky, gdelt, "
        "hackernews, youtube, news or feed (README: Ingestion, the formats table).",
    ),
    format: str = typer.Option(
        None,
        help="With --input: jsonl, csv, parquet or feed (default: the preset's, else "
        "from the file's name, else from its first bytes).",
    ),
    encoding: str = typer.Option(
        None, help="With --input: the text encoding of JSONL/CSV files (e.g. cp1252), or auto to detect it per file."
    ),
    published_at: str = typer.Option(
        None,
        "--published-at",
        help="With --input: the time of records that carry none (an undated corpus), e.g. 2025-01-01.",
    ),
    settings_set: list[str] = typer.Option(
        None,
        "--set",
        help="With --input: any source setting as KEY=VALUE "
        "(repeatable; a TOML value where it is one), e.g. --set "
        "text_field=Description --set combine_title=true.",
    ),
    start: str = typer.Option(None, "--from", help="Only records dated from this day (YYYY-MM-DD)."),
    end: str = typer.Option(None, "--to", help="Only records dated up to this day (YYYY-MM-DD)."),
    max_quarantined: float = typer.Option(
        None,
        "--max-quarantined",
        min=0.0,
        max=1.0,
        help="Exit 1 when a source quarantines more than this share of its "
        "records (e.g. 0.5), for pipelines that must not go on with an empty day.",
    ),
    workers: int = typer.Option(
        None,
        help="Processes cleaning blocks and merging days (default: one per core "
        "for inputs of 64 MiB or more, else this one).",
    ),
    use_beam: bool = typer.Option(
        False,
        "--beam",
        help="Run the same ingestion as a Beam job (the local runner, "
        "or the --profile's: Flink, Spark, a cluster); extra arguments are Beam options.",
    ),
    profile: Path = typer.Option(None, help="With --beam: a runner profile, e.g. infra/runners/flink-local.yaml."),
    home: str = HomeOption,
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
        fail("--profile and Beam options need --beam")
    settings = settings_for(home, data_dir, beam=use_beam)
    try:
        if settings_set and not input:
            raise ValueError("--set goes with --input; in a sources file, write the settings in its tables")
        specs = specs_for(
            config,
            settings.data_dir,
            source,
            input,
            preset,
            format=format,
            encoding=encoding,
            published_at=published_at,
            **parse_settings(settings_set or []),
        )
        window = {
            "start": date.fromisoformat(start) if start else None,
            "end": date.fromisoformat(end) if end else None,
        }
    except (ValueError, FileNotFoundError) as err:
        fail(str(err))
    warehouse = Warehouse(settings.home)
    if use_beam:
        from pipelines.ingest import ingest_with_beam

        def run(spec):
            return ingest_with_beam(spec, warehouse, profile=profile, beam_args=list(ctx.args), **window)
    else:

        def run(spec):
            return ingest_source(spec, warehouse, progress=not json_out, workers=workers, **window)

    summaries = [s.as_dict() for s in ingest_each(specs, run, warehouse.root)]
    totals = {
        k: sum(s[k] for s in summaries)
        for k in (
            "read",
            "written",
            "duplicates",
            "quarantined",
            "out_of_range",
            "chars_replaced",
            "entities_decoded",
            "chars_removed",
        )
    }
    failed = [s["source"] for s in summaries if s["errors"]]
    too_many = over_limit(summaries, max_quarantined)
    if json_out:
        typer.echo(
            json.dumps(
                {
                    **totals,
                    "errors": [e for s in summaries for e in s["errors"]],
                    "failed_sources": failed,
                    "over_max_quarantined": too_many,
                    "sources": summaries,
                }
            )
        )
    else:
        for s in summaries:
            fixes = "".join(
                f"  {label} {s[key]}"
                for key, label in (
                    ("chars_replaced", "characters replaced"),
                    ("entities_decoded", "entities decoded"),
                    ("chars_removed", "invisible removed"),
                )
                if s[key]
            )
            typer.echo(
                f"{s['source']:<20} read {s['read']:>8}  written {s['written']:>8}  "
                f"duplicates {s['duplicates']:>7}  quarantined {s['quarantined']:>6}"
                + (f"  out of range {s['out_of_range']}" if s["out_of_range"] else "")
                + fixes
            )
            for warning in s["warnings"]:
                typer.secho(f"  warning: {warning}", fg=typer.colors.YELLOW, err=True)
            for error in s["errors"]:
                typer.secho(f"  error: {error['error']}", fg=typer.colors.RED, err=True)
        for line in too_many:
            typer.secho(f"error: {line} (--max-quarantined)", fg=typer.colors.RED, err=True)
    if failed or too_many:
        raise typer.Exit(code=1)
