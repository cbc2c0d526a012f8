"""A standalone Apache Flink cluster on this machine, for infra/runners/flink-cluster.yaml.

    python -m pipelines.flink_cluster up|down|status      (make flink-up / make flink-down)

`up` starts a JobManager and a TaskManager as two JVMs on 127.0.0.1 with Flink's own scripts
(the distribution `make engines` installs under .engines/flink/) and infra/flink/config.yaml;
the web UI and REST API are on http://127.0.0.1:8081. Logs go to .engines/flink-logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.jobserver import EngineMissingError, engines_dir, java
from sentiment.settings import PROJECT_ROOT

REST = "http://127.0.0.1:8081"
CONFIG = PROJECT_ROOT / "infra" / "flink" / "config.yaml"


def flink_home() -> Path:
    found = sorted((engines_dir() / "flink").glob("lib/python3*/site-packages/pyflink/bin/jobmanager.sh"))
    if not found:
        raise EngineMissingError(f"no Flink distribution under {engines_dir() / 'flink'}: run `make engines` once")
    return found[-1].parent.parent


def _environment() -> dict[str, str]:
    home, conf, logs = flink_home(), engines_dir() / "flink-conf", engines_dir() / "flink-logs"
    conf.mkdir(parents=True, exist_ok=True)
    logs.mkdir(parents=True, exist_ok=True)
    for name in ("log4j.properties", "log4j-console.properties", "log4j-cli.properties"):
        shutil.copyfile(home / "conf" / name, conf / name)
    shutil.copyfile(CONFIG, conf / "config.yaml")
    java_home = Path(java()).resolve().parent.parent
    return {
        **os.environ,
        "FLINK_HOME": str(home),
        "FLINK_CONF_DIR": str(conf),
        "FLINK_LOG_DIR": str(logs),
        "FLINK_PID_DIR": str(logs),
        "JAVA_HOME": os.environ.get("JAVA_HOME", str(java_home)),
    }


def overview() -> dict | None:
    """The cluster's /overview (task managers, slots, jobs, version), or None when nothing answers."""
    try:
        with urllib.request.urlopen(f"{REST}/overview", timeout=2) as response:
            return json.load(response)
    except OSError:
        return None


def up(timeout_s: float = 120, taskmanagers: int = 1) -> dict:
    """Start the cluster (a no-op when one already answers on :8081 with enough TaskManagers); waits
    until `taskmanagers` TaskManagers registered."""
    state = overview()
    running = state.get("taskmanagers", 0) if state else 0
    if running >= taskmanagers:
        return state
    env, bin_dir = _environment(), flink_home() / "bin"
    if state is None:
        subprocess.run(["bash", str(bin_dir / "jobmanager.sh"), "start"], env=env, check=True)
    for _ in range(taskmanagers - running):
        subprocess.run(["bash", str(bin_dir / "taskmanager.sh"), "start"], env=env, check=True)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        state = overview()
        if state and state.get("taskmanagers", 0) >= taskmanagers:
            return state
        time.sleep(0.5)
    raise RuntimeError(f"the Flink cluster did not come up within {timeout_s:.0f} s; logs in {env['FLINK_LOG_DIR']}")


def down(timeout_s: float = 60) -> None:
    """Stop the TaskManager and the JobManager that `up` started."""
    env, bin_dir = _environment(), flink_home() / "bin"
    subprocess.run(["bash", str(bin_dir / "taskmanager.sh"), "stop-all"], env=env, check=False)
    subprocess.run(["bash", str(bin_dir / "jobmanager.sh"), "stop-all"], env=env, check=False)
    deadline = time.monotonic() + timeout_s
    while overview() is not None and time.monotonic() < deadline:
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down", "status"])
    action = parser.parse_args(argv).action
    try:
        if action == "up":
            state = up()
            print(
                f"Flink {state['flink-version']} up: {state['taskmanagers']} TaskManager, "
                f"{state['slots-total']} slots; web UI {REST}"
            )
        elif action == "down":
            down()
            print("Flink cluster stopped" if overview() is None else f"something still answers on {REST}")
        else:
            state = overview()
            print(json.dumps(state) if state else f"no Flink cluster answers on {REST}")
    except EngineMissingError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
