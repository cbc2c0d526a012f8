"""A local S3 server (versitygw, Apache-2.0) for a warehouse on object storage without a cloud account.

    python -m sentiment.s3server up [--port 7070] [--bucket demo]   (make s3-up: prints the exports)
    python -m sentiment.s3server down                                (make s3-down)

versitygw is a Go S3 gateway whose objects are plain files in a directory; `make s3-bin`
builds it once into .engines/bin/ (`go install`, about a minute with the module proxy).
`up` serves .s3/data/ on 127.0.0.1, creates the bucket, and prints the standard variables
(AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION) to `eval`.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sentiment.files import process_alive
from sentiment.settings import PROJECT_ROOT

VERSION = "v1.8.0"
BINARY = PROJECT_ROOT / ".engines" / "bin" / "versitygw"
STATE = PROJECT_ROOT / ".s3"
ACCESS_KEY = "sentiment"
SECRET_KEY = "sentiment-local-secret"  # a local test server's key, bound to 127.0.0.1 only
REGION = "us-east-1"


class S3ServerMissingError(RuntimeError):
    pass


@dataclass
class S3Server:
    endpoint: str
    process: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        """The standard variables every S3 client here reads (pyarrow, s3fs, boto3, deltalake)."""
        return {
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": REGION,
        }

    def create_bucket(self, bucket: str) -> None:
        from pyarrow import fs

        s3 = fs.S3FileSystem(
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            endpoint_override=self.endpoint,
            region=REGION,
            allow_bucket_creation=True,
        )
        s3.create_dir(bucket)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def binary() -> Path:
    if not BINARY.is_file():
        raise S3ServerMissingError(
            f"no S3 server at {BINARY}: `make s3-bin` builds it (needs Go: "
            f"go install github.com/versity/versitygw/cmd/versitygw@{VERSION})"
        )
    return BINARY


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(data_dir: Path, port: int | None = None, log: Path | None = None, timeout: float = 20) -> S3Server:
    """Serve `data_dir` as S3 on 127.0.0.1 (a free port by default) until stopped."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115  the server keeps it open
    process = subprocess.Popen(
        [str(binary()), "--access", ACCESS_KEY, "--secret", SECRET_KEY, "--region", REGION,
         "--port", f"127.0.0.1:{port}", "posix", str(data_dir)],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    server = S3Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the S3 server exited at start (code {process.returncode}); see {log}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"the S3 server did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def _up(port: int, bucket: str) -> int:
    pid_file = STATE / "server.pid"
    if pid_file.is_file() and not process_alive(int(pid_file.read_text())):
        pid_file.unlink()  # a server that is gone (a reboot): start a new one
    if pid_file.is_file():
        print(f"# an S3 server is already up (pid {pid_file.read_text().strip()}); `make s3-down` stops it",
              file=sys.stderr)  # fmt: skip
        print((STATE / "exports").read_text(), end="")
        return 0
    STATE.mkdir(exist_ok=True)
    server = start(STATE / "data", port, log=STATE / "server.log")
    server.create_bucket(bucket)
    pid_file.write_text(str(server.process.pid))
    exports = "".join(f"export {k}={v}\n" for k, v in server.env().items())
    (STATE / "exports").write_text(exports)
    print(f"# S3 server on {server.endpoint}, bucket {bucket!r}, objects under {STATE / 'data'}", file=sys.stderr)
    print(f'# eval "$(make -s s3-up)", then SENTIMENT_HOME=s3://{bucket}/warehouse', file=sys.stderr)
    print(exports, end="")
    return 0

    return True


def _down() -> int:
    pid_file = STATE / "server.pid"
    if not pid_file.is_file():
        print("no S3 server is up", file=sys.stderr)
        return 0
    try:
        os.kill(int(pid_file.read_text()), signal.SIGTERM)
    except ProcessLookupError:
        pass
    pid_file.unlink()
    print("S3 server stopped (objects kept under .s3/data)", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="python -m sentiment.s3server", description=__doc__,
                                  formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    cli.add_argument("action", choices=["up", "down"])
    cli.add_argument("--port", type=int, default=7070)
    cli.add_argument("--bucket", default="demo")
    args = cli.parse_args(argv)
    try:
        return _up(args.port, args.bucket) if args.action == "up" else _down()
    except (S3ServerMissingError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
