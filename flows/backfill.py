"""Backfill: score a date range one day at a time (or in one Beam job), skipping complete days."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from tqdm.auto import tqdm

from flows.plan import plan_backfill
from flows.tasks import score_day_task, score_task
from pipelines.profiles import runner_session
from sentiment.warehouse import Warehouse
from sentiment_model import checkpoint


@dataclass
class BackfillResult:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already complete for the current model and input
    empty: list[str] = field(default_factory=list)  # no raw documents
    damaged: list[str] = field(default_factory=list)  # manifest said complete, outputs gone or changed: re-scored
    failed: dict[str, str] = field(default_factory=dict)  # day -> error
    documents: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


@flow(name="backfill", task_runner=ThreadPoolTaskRunner(max_workers=16))  # the loop bounds concurrency
def backfill_flow(
    home: Path,
    start: date,
    end: date,
    sources: list[str] | None = None,
    force: bool = False,
    max_concurrency: int = 1,
    single_run: bool = False,
    beam_args: list[str] | None = None,
    progress: bool = False,
    profile: Path | None = None,
) -> BackfillResult:
    """Score every day start..end that is not complete for the current model and its input.

    One unit of work per day, at most `max_concurrency` at once; a failed day is retried once
    and reported without stopping the others. `single_run` scores all the days in one Beam
    job instead (for engines where job start-up dominates). `profile` is a runner profile
    (infra/runners/*.yaml); a Flink or Spark job server it names starts once for the backfill.
    """
    logger = get_run_logger()
    warehouse = Warehouse(Path(home))
    version = checkpoint.read_meta(warehouse.current_model())["version"]
    plan = plan_backfill(warehouse, start, end, version, sources, force)
    result = BackfillResult(skipped=plan.skipped, empty=plan.empty, damaged=sorted(plan.damaged))
    logger.info("backfill %s..%s: %d to score, %d complete, %d without data",
                start, end, len(plan.todo), len(plan.skipped), len(plan.empty))
    for day, problems in plan.damaged.items():
        logger.warning("%s: its manifest says complete, but %s; scoring it again", day, "; ".join(problems[:3]))
    if plan.todo:
        with runner_session(profile, beam_args) as session:  # a job server, if any, serves every day
            if session.startup_s:
                logger.info("job server started in %.1f s for the whole backfill", session.startup_s)
            _score(home, start, end, plan.todo, sources, session.args, single_run, max_concurrency, progress, result)
    logger.info("backfill finished: %d done, %d skipped, %d failed", len(result.done), len(result.skipped),
                len(result.failed))
    return result


def _score(home, start, end, days, sources, args, single_run, max_concurrency, progress, result) -> None:
    if single_run:
        summary = score_task(home, start, end, sources=sources, beam_args=args, only_days=days)
        result.done, result.documents = list(days), summary.counters.get("documents_read", 0)
    else:
        _run_days(home, days, sources, args, max_concurrency, progress, result)


def _run_days(home, days, sources, beam_args, max_concurrency, progress, result: BackfillResult) -> None:
    bar = tqdm(total=len(days), unit="day", desc="backfill", disable=not progress)
    pending = list(days)
    running = {}
    while pending or running:
        while pending and len(running) < max(1, max_concurrency):
            day = pending.pop(0)
            running[score_day_task.submit(home, day, sources, beam_args)] = day
        finished = next(as_completed(list(running)))
        day = running.pop(finished)
        try:
            summary = finished.result()  # waits for the final state; raises if the day failed
        except Exception as err:  # noqa: BLE001  a failed day is reported, the others go on
            result.failed[day] = f"{type(err).__name__}: {err}"
        else:
            result.done.append(day)
            result.documents += summary.counters.get("documents_read", 0)
        bar.update(1)
    bar.close()
    result.done.sort()
