import logging
import os

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


def test_worker_processes_print_to_the_warehouse_log_not_the_console(tmp_path, tiny_model, capfd):
    from pipelines.score import ScoreJob, score_range
    from tests.factories import make_lake

    warehouse = make_lake(tmp_path, tiny_model)
    args = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    capfd.readouterr()
    summary = score_range(
        ScoreJob(home=warehouse.root, start="2015-02-17", end="2015-02-18", beam_args=args, verbose=False)
    )
    console = capfd.readouterr().err
    assert summary.counters["documents_scored"] > 0
    worker_log = (warehouse.root / "logs" / "beam-workers.log").read_text()
    assert "sdk_worker" in worker_log or "harness" in worker_log  # the workers' start-up lines
    assert "sdk_worker" not in console and "Python sdk harness" not in console


def test_format_scoring_reads_as_a_sentence():
    from sentiment.report import format_scoring

    line = format_scoring(
        {
            "days": 8,
            "seconds": 5.68,
            "docs_per_s": 2584.8,
            "mean_batch_size": 312.1,
            "padding_efficiency": 0.763,
            "counters": {"documents_scored": 14669, "documents_skipped": 3, "documents_skipped_empty": 3},
        }
    )
    assert line == (
        "14,669 documents scored, 3 skipped (empty 3), over 8 days in 5.7 s (2,585 docs/s); "
        "batches of 312 documents, padding efficiency 0.76"
    )


def test_the_worker_log_is_rotated_past_its_size_limit(tmp_path):
    from sentiment import logs

    path = tmp_path / "logs" / "beam-workers.log"
    path.parent.mkdir()
    path.write_bytes(b"x" * (logs.MAX_WORKER_LOG_BYTES + 1))
    with logs.worker_output_to(path):
        os.write(2, b"a worker line\n")
    assert path.read_bytes() == b"a worker line\n"
    assert (tmp_path / "logs" / "beam-workers.log.1").stat().st_size == logs.MAX_WORKER_LOG_BYTES + 1
