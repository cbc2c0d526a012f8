"""Shared by the benchmarks: a whole process timed with its peak memory, and the results file."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def run_measured(command: list[str], interval: float = 0.1) -> tuple[float, float, str]:
    """(wall seconds, peak MB of the process and its descendants together, stdout) of a command."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    peak = 0
    while process.poll() is None:
        peak = max(peak, sum(_rss(pid) for pid in _tree(process.pid)))
        time.sleep(interval)
    stdout = process.stdout.read()
    if process.wait() != 0:
        raise RuntimeError(f"failed: {' '.join(command)}")
    return time.perf_counter() - started, peak / 2**20, stdout


def report(name: str, result: dict, as_json: bool) -> dict:
    """Write bench/results/<name>.json and print the result."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result) if as_json else json.dumps(result, indent=2))
    return result


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    pids, stack = [], [root]
    while stack:
        pid = stack.pop()
        pids.append(pid)
        stack.extend(children.get(pid, []))
    return pids


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0
