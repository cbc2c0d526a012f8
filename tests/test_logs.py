import logging

from sentiment.logs import configure_logging


def _console_handlers() -> list[logging.Handler]:
    names = ["", "prefect", "prefect.flow_runs", "prefect.task_runs", "apache_beam", "pipelines"]
    found = []
    for name in names:
        found += [h for h in logging.getLogger(name).handlers if type(h) is logging.StreamHandler]
    return found


def test_one_console_handler_after_beam_and_prefect_imports():
    configure_logging()
    import apache_beam  # noqa: F401
    import prefect  # noqa: F401

    assert len(_console_handlers()) == 1
    assert logging.getLogger("prefect.flow_runs").propagate
