"""Beam's external SDK worker pool, isolated from the submitter's disk: a shared-nothing worker.

    python -m pipelines.worker_pool [--port 50000] [--hide DIR ...]

Starts `apache_beam.runners.worker.worker_pool_main` (each SDK worker a child process of it) in
its own mount namespace (`unshare -m`, needs root or a user namespace) where /tmp, the user's
home and every `--hide` directory (the submitter's warehouse, say) are empty tmpfs mounts: what
the workers read and write must come through the job (gRPC) or the warehouse on object storage.
A Flink TaskManager reaches it with `environment_type: EXTERNAL` and `environment_config:
127.0.0.1:<port>` (infra/runners/flink-cluster-shared-nothing.yaml).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sentiment.settings import PROJECT_ROOT


def hidden(targets: list[Path]) -> list[Path]:
    """The directories to mount over: each target, or, where a target holds this installation
    (the project or its Python), the target's other entries."""
    keep = [
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve().parent,
        PROJECT_ROOT,
    ]
    out: list[Path] = []
    for target in (t.resolve() for t in targets if t.is_dir()):
        if any(k == target or target in k.parents for k in keep):
            out += [c for c in target.iterdir() if c.is_dir() and not any(c == k or c in k.parents for k in keep)]
        else:
            out.append(target)
    out = sorted(set(out))
    return [t for t in out if not any(o in t.parents for o in out)]  # one mount covers what is under it


def isolated_command(port: int, hide: list[Path]) -> list[str]:
    """The worker pool under `unshare -m`: the temp directory, $HOME and `hide` mounted over by empty tmpfs."""
    targets = hidden([Path(tempfile.gettempdir()), Path("/tmp"), Path.home(), *hide])
    mounts = " && ".join(f"mount -t tmpfs -o size=2g none {shlex.quote(str(t))}" for t in targets)
    pool = f"exec {shlex.quote(sys.executable)} -m apache_beam.runners.worker.worker_pool_main --service_port={port}"
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", f"{mounts} && {pool}"]


def start(
    port: int, hide: list[Path], env: dict[str, str] | None = None, log: Path | None = None, timeout: float = 60
) -> subprocess.Popen:
    """Start the isolated pool (its and its workers' output to `log`); returns once it listens on 127.0.0.1:`port`."""
    if not shutil.which("unshare"):
        raise RuntimeError("`unshare` (util-linux) is needed for a worker without the submitter's disk")
    scratch = Path(tempfile.gettempdir())  # an empty tmpfs in there
    env = {**(env or os.environ), "SENTIMENT_CACHE": str(scratch / "worker-cache"), "TMPDIR": str(scratch)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # workers start as `python`
    out = open(log, "ab") if log else None  # noqa: SIM115  opened before the namespace hides its folder
    process = subprocess.Popen(
        isolated_command(port, hide), env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the worker pool exited at start (code {process.returncode}): can this user unshare -m?"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"the worker pool did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=50000)
    parser.add_argument("--hide", type=Path, action="append", default=[], help="a directory the workers must not see")
    args = parser.parse_args(argv)
    process = start(args.port, args.hide)
    print(f"worker pool on 127.0.0.1:{args.port} (pid {process.pid}); /tmp, {Path.home()} and {args.hide} hidden")
    return process.wait()


if __name__ == "__main__":
    sys.exit(main())
