"""Beam job servers for Apache Flink and Apache Spark, started from `.engines/` (`make engines`).

A job server is a JVM that takes pipelines over Beam's Job API and runs them on its engine:
Flink's embedded cluster (`[local]`) or a Flink cluster (`host:port` of its REST API), Spark
`local[N]` or a Spark master. `JobServer` starts one on free ports, waits until it listens,
and stops it on exit; the job then runs with `--runner=PortableRunner --job_endpoint=...`.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from sentiment.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

DRIVERS = {
    "flink": "org.apache.beam.runners.flink.FlinkJobServerDriver",
    "spark": "org.apache.beam.runners.spark.SparkJobServerDriver",
}
MASTER_FLAGS = {"flink": "--flink-master", "spark": "--spark-master-url"}
# Spark 3.2 on Java 17 reaches into JDK internals (what Spark's own launcher passes).
SPARK_JAVA_OPTIONS = [
    f"--add-opens=java.base/{package}=ALL-UNNAMED"
    for package in (
        "java.lang",
        "java.lang.invoke",
        "java.lang.reflect",
        "java.io",
        "java.net",
        "java.nio",
        "java.util",
        "java.util.concurrent",
        "java.util.concurrent.atomic",
        "sun.nio.ch",
        "sun.nio.cs",
        "sun.security.action",
        "sun.util.calendar",
    )
]
START_TIMEOUT_S = 180


class EngineMissingError(FileNotFoundError):
    """Java or the engines' files are not on this machine; the message says how to get them."""


@dataclass(frozen=True)
class JobServerSpec:
    engine: str  # "flink" or "spark"
    master: str  # flink: "[local]" or the cluster's REST host:port; spark: "local[2]" or spark://host:port
    java_options: tuple[str, ...] = ()  # extra JVM flags, e.g. ("-Xmx4g",)

    def __post_init__(self) -> None:
        if self.engine not in DRIVERS:
            raise ValueError(f"job_server.engine must be one of {sorted(DRIVERS)}, not {self.engine!r}")
        if not self.master:
            raise ValueError("job_server.master is required (flink: [local] or host:8081; spark: local[2])")


def engines_dir() -> Path:
    return Path(os.environ.get("SENTIMENT_ENGINES_DIR", PROJECT_ROOT / ".engines"))


def java() -> str:
    found = shutil.which("java")
    if not found:
        raise EngineMissingError("Java 17 is needed to run Flink or Spark (apt-get install openjdk-17-jre-headless)")
    return found


def class_path(engine: str) -> Path:
    directory = engines_dir() / f"{engine}-job-server"
    if not any(directory.glob("*.jar")):
        raise EngineMissingError(f"no {engine} job server in {directory}: run `make engines` once (needs Maven)")
    return directory


def command(spec: JobServerSpec, job_port: int, artifact_port: int) -> list[str]:
    options = list(spec.java_options) + (SPARK_JAVA_OPTIONS if spec.engine == "spark" else [])
    return [
        java(),
        *options,
        "-cp",
        f"{class_path(spec.engine)}/*",
        DRIVERS[spec.engine],
        "--job-host",
        "localhost",
        "--job-port",
        str(job_port),
        "--artifact-port",
        str(artifact_port),
        "--expansion-port",
        "0",
        MASTER_FLAGS[spec.engine],
        spec.master,
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the process that started it dies (even by kill -9)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class JobServer:
    """`with JobServer(spec) as endpoint:` a running job server, stopped on exit."""

    def __init__(self, spec: JobServerSpec, log_dir: Path | None = None):
        self.spec = spec
        self.log_dir = log_dir or engines_dir() / "logs"
        self.process: subprocess.Popen | None = None
        self.endpoint: str | None = None
        self.startup_s: float | None = None

    def __enter__(self) -> str:
        job_port, artifact_port = free_port(), free_port()
        cmd = command(self.spec, job_port, artifact_port)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_file = self.log_dir / f"{self.spec.engine}-job-server-{job_port}.log"
        started = time.perf_counter()
        with open(self.log_file, "wb") as out:
            self.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        while not listening(job_port):
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the {self.spec.engine} job server exited ({self.process.returncode}); "
                    f"its log: {self.log_file}\n{_tail(self.log_file)}"
                )
            if time.perf_counter() - started > START_TIMEOUT_S:
                self.__exit__(None, None, None)
                raise RuntimeError(
                    f"the {self.spec.engine} job server did not listen within {START_TIMEOUT_S} s; "
                    f"its log: {self.log_file}"
                )
            time.sleep(0.2)
        self.startup_s = round(time.perf_counter() - started, 2)
        self.endpoint = f"localhost:{job_port}"
        log.info(
            "%s job server (master %s) ready at %s in %.1f s; log %s",
            self.spec.engine,
            self.spec.master,
            self.endpoint,
            self.startup_s,
            self.log_file,
        )
        return self.endpoint

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
