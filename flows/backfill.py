"""Backfill: score a date range in Beam jobs of bounded size, skipping complete days."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.futures import as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from tqdm.auto import tqdm

from flows.plan import day_documents, group_days, plan_backfill
from flows.tasks import score_day_task, score_task
from pipelines.profiles import runner_session
from sentiment.logs import console
from sentiment.options import option
from sentiment.storage import describe_store_error, location
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


# Default job size: due days are grouped into Beam jobs of at most this many days and
# documents, so start-up is paid per group rather than per day, while one job stays short.
CHUNK_DAYS = 366
CHUNK_DOCUMENTS = 50_000


@dataclass
class BackfillJob:
    """A backfill's options: the one definition behind `sentiment backfill` and `backfill_flow`'s parameters."""

    home: str | Path = option(help="the warehouse: a directory or s3://bucket/prefix")
    start: date = option(flag="--from", help="first day, YYYY-MM-DD")
    end: date = option(flag="--to", help="last day, YYYY-MM-DD")
    sources: list[str] | None = option(None, flag="--source", help="only this source (repeatable)")
    force: bool = option(False, help="re-score days that are already complete")
    max_concurrency: int = option(1, help="Beam jobs at once")
    single_run: bool = option(False, help="all due days in one Beam job")
    chunk_days: int = option(CHUNK_DAYS, help="at most this many days per Beam job (1: one job per day)")
    chunk_documents: int = option(
        CHUNK_DOCUMENTS, help="at most this many documents per Beam job (a day is never split)"
    )
    profile: Path | None = option(
        None,
        help="runner profile, e.g. infra/runners/flink-local.yaml; a Flink or "
        "Spark job server it names starts once for the whole backfill",
    )

    def __post_init__(self) -> None:
        self.home = location(self.home)
        self.start = self.start if isinstance(self.start, date) else date.fromisoformat(self.start)
        self.end = self.end if isinstance(self.end, date) else date.fromisoformat(self.end)
        if self.start > self.end:
            raise ValueError(f"--from {self.start} is after --to {self.end}")
        if self.max_concurrency < 1 or self.chunk_days < 1 or self.chunk_documents < 1:
            raise ValueError("max_concurrency, chunk_days and chunk_documents must be at least 1")


BACKFILL_HELP = """Score a date range as a Prefect flow, in Beam jobs of bounded size (--chunk-days,
--chunk-documents); complete days are skipped, so it resumes; a failed job is re-run day by day
and bad days are reported."""


@flow(name="backfill")
def backfill_flow(
    home: str | Path,
    start: date,
    end: date,
    sources: list[str] | None = None,
    force: bool = False,
    max_concurrency: int = 1,
    single_run: bool = False,
    beam_args: list[str] | None = None,
    progress: bool = False,
    profile: Path | None = None,
    chunk_days: int = CHUNK_DAYS,
    chunk_documents: int = CHUNK_DOCUMENTS,
) -> BackfillResult:
    """Score every day start..end that is not complete for the current model and its input.

    The due days are grouped into Beam jobs of at most `chunk_days` days and
    `chunk_documents` documents (a day is never split), at most `max_concurrency` jobs at
    once. A job that fails is scored again day by day, each day retried once, so a bad day
    is reported while the others complete. `chunk_days=1` gives one job per day;
    `single_run` one job for everything. Each day's manifest is written when its job ends,
    so a killed backfill resumes where the last finished job left off. `profile` is a runner
    profile (infra/runners/*.yaml); a Flink or Spark job server it names starts once.
    """
    logger = get_run_logger()
    warehouse = Warehouse(home)
    version = checkpoint.read_meta(warehouse.current_model())["version"]
    plan = plan_backfill(warehouse, start, end, version, sources, force)
    result = BackfillResult(skipped=plan.skipped, empty=plan.empty, damaged=sorted(plan.damaged))
    logger.info(
        "backfill %s..%s: %d to score, %d complete, %d without data",
        start,
        end,
        len(plan.todo),
        len(plan.skipped),
        len(plan.empty),
    )
    for day, problems in plan.damaged.items():
        logger.warning("%s: its manifest says complete, but %s; scoring it again", day, "; ".join(problems[:3]))
    if plan.todo:
        if single_run:
            chunks = [list(plan.todo)]
        else:
            chunks = group_days(plan.todo, day_documents(warehouse, plan.todo, sources), chunk_days, chunk_documents)
        logger.info("%d days in %d job(s)", len(plan.todo), len(chunks))
        with runner_session(profile, beam_args) as session:  # a job server, if any, serves every job
            if session.startup_s:
                logger.info("job server started in %.1f s for the whole backfill", session.startup_s)
            _run_chunks(home, chunks, sources, session.args, max_concurrency, progress, result)
    logger.info(
        "backfill finished: %d done, %d skipped, %d failed", len(result.done), len(result.skipped), len(result.failed)
    )
    return result


def _run_chunks(home, chunks, sources, beam_args, max_concurrency, progress, result: BackfillResult) -> None:
    """Run the jobs on a Prefect task runner of `max_concurrency` workers (it queues the rest);
    a failed multi-day job goes back to the queue as one job per day."""
    bar = tqdm(total=sum(len(c) for c in chunks), unit="day", desc="backfill", disable=not progress, file=console())
    with ThreadPoolTaskRunner(max_workers=max(1, max_concurrency)) as runner:
        running = {_submit(runner, home, chunk, sources, beam_args): chunk for chunk in chunks}
        while running:
            finished = next(as_completed(list(running)))
            chunk = running.pop(finished)
            try:
                summary = finished.result()  # waits for the final state; raises if the job failed
            except Exception as err:  # noqa: BLE001  a failed job is retried day by day, the others go on
                if len(chunk) == 1:
                    result.failed[chunk[0]] = describe_store_error(err, home) or f"{type(err).__name__}: {err}"
                else:
                    get_run_logger().warning(
                        "the job for %s..%s failed (%s); scoring its %d days one by one",
                        chunk[0],
                        chunk[-1],
                        err,
                        len(chunk),
                    )
                    running.update({_submit(runner, home, [day], sources, beam_args): [day] for day in chunk})
                    continue
            else:
                result.done.extend(chunk)
                result.documents += summary.counters.get("documents_read", 0)
            bar.update(len(chunk))
    bar.close()
    result.done.sort()


def _submit(runner: ThreadPoolTaskRunner, home, chunk: list[str], sources, beam_args):
    if len(chunk) == 1:  # one day: retried once by its task
        return runner.submit(
            score_day_task, {"home": home, "day": chunk[0], "sources": sources, "beam_args": beam_args}
        )
    start, end = date.fromisoformat(chunk[0]), date.fromisoformat(chunk[-1])
    return runner.submit(
        score_task,
        {"home": home, "start": start, "end": end, "sources": sources, "beam_args": beam_args, "only_days": chunk},
    )
