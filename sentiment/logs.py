"""One logging set-up for the whole process, so that each line is printed once.

`import apache_beam` may install a handler on the root logger (logging.basicConfig
through an import-time warning). We keep exactly one console handler, on the root
logger; Prefect's flow and task loggers propagate to it.
"""

from __future__ import annotations

import logging
import os

FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: int | str | None = None) -> None:
    level = level or os.environ.get("SENTIMENT_LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if not root.handlers:  # keep Beam's import-time warnings from installing basicConfig
        root.addHandler(logging.NullHandler())
    import apache_beam  # noqa: F401  (import first: it may add a root handler we replace)

    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT, datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(level)
    # Beam is chatty at INFO about bundles and workers.
    for name in ("apache_beam", "absl", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Worker processes print their own warnings; the job service would print them a second time.
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
