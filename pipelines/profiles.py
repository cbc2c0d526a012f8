"""Runner profiles: YAML files of Beam pipeline options (infra/runners/*.yaml).

    runner: PortableRunner
    job_server:            # optional: a Flink or Spark job server the job starts (pipelines.jobserver)
      engine: flink
      master: "[local]"
    options:
      environment_type: LOOPBACK

`runner_session(profile, flags)` gives the flags a job runs with; when the profile names a
job server and no --job_endpoint is given, it starts one for the session and stops it after.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipelines.jobserver import JobServer, JobServerSpec
from sentiment.settings import PROJECT_ROOT


@dataclass(frozen=True)
class Profile:
    path: Path
    runner: str
    options: dict = field(default_factory=dict)
    job_server: JobServerSpec | None = None

    def args(self) -> list[str]:
        """The profile as Beam command-line flags: `--runner=...` first, then its options."""
        args = [f"--runner={self.runner}"]
        for name, value in self.options.items():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    args.append(f"--{name}" if item else f"--no_{name}")
                else:
                    args.append(f"--{name}={item}")
        return args


def find_profile(path: Path) -> Path:
    """The path as given, else relative to the project (so `infra/runners/x.yaml` works from anywhere)."""
    path = Path(path)
    if path.is_file() or path.is_absolute():
        return path
    beside = PROJECT_ROOT / path
    return beside if beside.is_file() else path


def load_profile(path: Path) -> Profile:
    path = find_profile(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError as err:
        raise FileNotFoundError(f"runner profile not found: {path} (see infra/runners/)") from err
    if not isinstance(data, dict) or "runner" not in data:
        raise ValueError(f"{path}: a runner profile is a mapping with `runner` and `options`")
    server = data.get("job_server")
    if server is not None and not isinstance(server, dict):
        raise ValueError(f"{path}: job_server is a mapping with `engine` and `master`")
    spec = None
    if server:
        unknown = set(server) - {"engine", "master", "java_options"}
        if unknown:
            raise ValueError(f"{path}: job_server does not take {sorted(unknown)} (engine, master, java_options)")
        spec = JobServerSpec(
            str(server.get("engine", "")), str(server.get("master", "")), tuple(server.get("java_options") or ())
        )
    return Profile(path, str(data["runner"]), dict(data.get("options") or {}), spec)


def profile_args(path: Path) -> list[str]:
    return load_profile(path).args()


def merge_args(profile: list[str], given: list[str]) -> list[str]:
    """Profile flags then command-line flags; a flag given on the command line replaces the profile's."""
    given_names = {flag.split("=", 1)[0] for flag in given if flag.startswith("--")}
    return [flag for flag in profile if flag.split("=", 1)[0] not in given_names] + given


@dataclass
class RunnerSession:
    args: list[str]  # the Beam flags to run with
    startup_s: float = 0.0  # seconds spent starting a job server for this session


@contextmanager
def runner_session(profile: Path | None, given: list[str] | None = None) -> Iterator[RunnerSession]:
    """The flags for a profile plus `given`, with the profile's job server running if it names one."""
    given = list(given or [])
    if profile is None:
        yield RunnerSession(given)
        return
    loaded = load_profile(profile)
    args = merge_args(loaded.args(), given)
    if loaded.job_server is None or any(flag.startswith("--job_endpoint") for flag in args):
        yield RunnerSession(args)
        return
    server = JobServer(loaded.job_server)
    with server as endpoint:
        yield RunnerSession(args + [f"--job_endpoint={endpoint}"], server.startup_s or 0.0)
