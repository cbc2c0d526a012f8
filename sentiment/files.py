"""File helpers shared by the model artifact, the scoring manifests, the dataset downloads and the caches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether a process of this host is still running (a stale pid file, or staging folder, is not)."""
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    from sentiment.storage import location

    digest = hashlib.sha256()
    with location(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_key(salt: str, root: Path, paths: Iterable[Path]) -> str:
    """A short cache key from `salt` and each file's path under `root` and SHA-256 ("-" for a
    missing file): it changes when any file's bytes or the salt do, not when a copy of the same
    data gets new modification times (the datasets directory is small: ~0.1 s to hash)."""
    digest = hashlib.sha256(salt.encode())
    for path in paths:
        content = sha256_file(path) if path.is_file() else "-"
        digest.update(f"{Path(path).relative_to(root)}:{content}".encode())
    return digest.hexdigest()[:12]
