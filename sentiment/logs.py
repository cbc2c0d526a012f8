"""One logging set-up for the whole process, so that each line is printed once.

`import apache_beam` may install a handler on the root logger (logging.basicConfig
through an import-time warning). We keep exactly one console handler, on the root
logger; Prefect's flow and task loggers propagate to it.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: int | str | None = None, beam: bool = True) -> None:
    """The one console handler; `beam`: the command runs Beam (importing it first costs 0.6 s)."""
    level = level or os.environ.get("SENTIMENT_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if not root.handlers:  # keep Beam's import-time warnings from installing basicConfig
        root.addHandler(logging.NullHandler())
    if beam:
        import apache_beam  # noqa: F401  (import first: it may add a root handler we replace)

    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    # Beam is chatty at INFO about bundles and workers; the S3 clients about where they found credentials.
    for name in ("apache_beam", "absl", "httpx", "httpcore", "aiobotocore", "botocore", "s3fs"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Worker processes print their own warnings; the job service would print them a second time.
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)


MAX_WORKER_LOG_BYTES = 10 * 2**20  # past this, the worker log starts afresh (the previous one kept as .1)
_console = None
_redirect_lock = threading.Lock()
_redirect_depth = 0
_saved_stderr: int | None = None


def console():
    """A text stream to the console this process started with, which `worker_output_to` leaves alone."""
    global _console
    if _console is None:
        _console = os.fdopen(os.dup(2), "w", buffering=1)
    return _console


@contextmanager
def worker_output_to(path: Path) -> Iterator[Path]:
    """Send what Beam's worker processes print (they inherit file descriptor 2) to `path` while
    the block runs; this process's log lines, and progress bars written to `console()`, stay
    on the console.
    Nested and concurrent uses (a backfill's days) share the first redirection."""
    global _redirect_depth, _saved_stderr
    path.parent.mkdir(parents=True, exist_ok=True)
    with _redirect_lock:
        if _redirect_depth == 0:
            if path.exists() and path.stat().st_size > MAX_WORKER_LOG_BYTES:  # keep one older file
                path.replace(path.with_name(path.name + ".1"))
            console()  # before fd 2 moves
            sys.stderr.flush()
            _saved_stderr = os.dup(2)
            with open(path, "ab") as log_file:
                os.dup2(log_file.fileno(), 2)
            _log_handlers_to_console(True)
        _redirect_depth += 1
    try:
        yield path
    finally:
        with _redirect_lock:
            _redirect_depth -= 1
            if _redirect_depth == 0 and _saved_stderr is not None:
                sys.stderr.flush()
                _log_handlers_to_console(False)
                os.dup2(_saved_stderr, 2)
                os.close(_saved_stderr)
                _saved_stderr = None


def _log_handlers_to_console(on: bool) -> None:
    """Point the root logger's handlers that write to file descriptor 2 at `console()`, or back."""
    for handler in logging.getLogger().handlers:
        if type(handler) is not logging.StreamHandler:
            continue
        if on:
            try:
                fd = handler.stream.fileno()
            except (AttributeError, OSError, ValueError):
                continue
            if fd == 2:
                handler._sentiment_previous = handler.setStream(console())
        elif hasattr(handler, "_sentiment_previous"):
            handler.setStream(handler._sentiment_previous)
            del handler._sentiment_previous
