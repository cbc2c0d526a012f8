"""Where the warehouse lives: a local directory, or a prefix on object storage (s3://, gs://).

`location("s3://bucket/prefix")` is a `UPath` (universal_pathlib over fsspec): it joins with `/`,
lists, reads and writes like a `pathlib.Path`, so the warehouse's layout is written once for both.
A local location stays a plain `Path`. pyarrow reads and writes either through `uri(path)`
(pyarrow's own S3 client for s3://). Credentials and the endpoint come the standard way:
AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION;
every client used here (pyarrow, s3fs) reads them.

Object stores have no rename: a partition there is one object, replaced by one PUT, which S3
makes atomic (a reader gets the whole old object or the whole new one).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from upath import UPath
from upath.implementations.cloud import S3Path
from upath.registry import register_implementation

REMOTE_SCHEMES = ("s3://", "gs://", "gcs://", "memory://")


class StorageError(RuntimeError):
    """The store refused or failed an operation; the message says what, where and what to do."""


def is_remote(path) -> bool:
    return str(path).startswith(REMOTE_SCHEMES) or getattr(path, "protocol", "") not in ("", "file", "local")


def location(text: str | os.PathLike) -> Path:
    """A local `Path`, or a `UPath` for an object-store URL."""
    if isinstance(text, Path) or hasattr(text, "protocol"):  # a Path, or already a UPath
        return text
    if str(text).startswith("s3://"):
        _check_credentials(str(text))
        # No listing cache: other processes and pyarrow's own client replace objects under it.
        return UPath(str(text).rstrip("/"), use_listings_cache=False, **_s3_options())
    if str(text).startswith(REMOTE_SCHEMES):
        return UPath(str(text).rstrip("/"))
    return Path(text).expanduser()


def _s3_options() -> dict[str, str]:
    """The endpoint and keys of the environment, given to s3fs explicitly: they also key fsspec's
    cache of file-system instances, so new keys (rotated, say) get a new client."""
    names = {"endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"), "key": ("AWS_ACCESS_KEY_ID",),
             "secret": ("AWS_SECRET_ACCESS_KEY",), "token": ("AWS_SESSION_TOKEN",)}  # fmt: skip
    options = {}
    for option, variables in names.items():
        value = next((os.environ[v] for v in variables if os.environ.get(v)), None)
        if value:
            options[option] = value
    return options


class StrictS3Path(S3Path):
    """UPath's S3 path whose exists/is_file/is_dir raise the store's error (an unreachable endpoint,
    refused credentials) instead of answering False: "no model", "no raw documents" or "day not
    done" must never be what a network fault looks like."""

    def _kind(self) -> str | None:
        try:
            return self.fs.info(self.path)["type"]
        except FileNotFoundError:
            return None

    def exists(self, *, follow_symlinks: bool = True) -> bool:
        return self._kind() is not None

    def is_file(self, *, follow_symlinks: bool = True) -> bool:
        return self._kind() == "file"

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return self._kind() == "directory"


register_implementation("s3", StrictS3Path, clobber=True)


def uri(path) -> str:
    """The path as pyarrow takes it: a local path, or the object store's URL."""
    if is_remote(path):
        text = str(path)
        return text if "://" in text else f"{path.protocol}://{text}"
    return str(path)


def relative(path, root) -> str:
    """`path` (a Path, UPath or URL string) relative to `root`, with forward slashes."""
    text, base = uri(location(path) if not isinstance(path, str) else path), uri(location(root)).rstrip("/")
    if not is_remote(base):
        return Path(text).resolve().relative_to(Path(base).resolve()).as_posix()
    if not text.startswith(base + "/"):
        raise ValueError(f"{text} is not under {base}")
    return text[len(base) + 1 :]


def local_root() -> Path:
    """Local disk for what a remote warehouse keeps beside it (caches, staging): $SENTIMENT_CACHE,
    else ~/.cache/sentiment."""
    root = os.environ.get("SENTIMENT_CACHE")
    return Path(root).expanduser() if root else Path.home() / ".cache" / "sentiment"


def local_dir_for(remote, *parts: str) -> Path:
    """A local directory standing for a remote location (one per bucket and prefix)."""
    text = uri(remote).replace("://", "/")
    return local_root().joinpath("remote", *text.split("/"), *parts)


def download_dir(remote, local: Path) -> Path:
    """Copy a remote directory's files to `local` (written aside, then renamed into place)."""
    if local.is_dir():
        return local
    local.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{local.name}-", dir=local.parent))
    for item in remote.iterdir():
        if item.is_file():
            (staging / item.name).write_bytes(item.read_bytes())
    try:
        os.rename(staging, local)
    except OSError:  # another process put it there first: theirs is the same files
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
    return local


def fetch_file(path) -> Path:
    """A local copy of a file (an object-store file is downloaded once, under `local_root()`)."""
    if not is_remote(path):
        return Path(path)
    remote = location(path)
    local = local_dir_for(remote.parent) / remote.name
    if not local.is_file():
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.parent / f".{local.name}.{os.getpid()}.part"
        partial.write_bytes(remote.read_bytes())
        os.replace(partial, local)
    return local


def _check_credentials(url: str) -> None:
    sources = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI")
    if (
        url.startswith("s3://")
        and not any(os.environ.get(name) for name in sources)
        and not (Path.home() / ".aws" / "credentials").is_file()
    ):
        raise StorageError(
            f"{url}: no S3 credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL_S3 "
            "for a server other than AWS; `make s3-up` prints them for the local one)"
        )


def describe_store_error(err: BaseException, home=None) -> str | None:
    """One line saying what failed, where, and what to do, for a fault of the warehouse's store
    (a full disk, a refused write, bad or expired credentials, an unreachable endpoint); None for
    an error that is not the store's."""
    import errno

    text = " ".join(str(err).split())
    name = type(err).__name__
    where = f" (warehouse {home})" if home else ""
    kept = "the last complete partitions are intact; run the same command again once it is fixed"
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or "AWS"
    if isinstance(err, StorageError):
        return text
    full = isinstance(err, OSError) and (err.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in text)
    if full:
        target = err.filename or "the warehouse"
        return f"no space left on the device writing {target}{where}: free space or move SENTIMENT_HOME; {kept}"
    if isinstance(err, OSError) and err.errno == errno.EROFS:
        return f"read-only file system at {err.filename}{where}: point SENTIMENT_HOME at a writable place; {kept}"
    if name == "EndpointConnectionError" or "NETWORK_CONNECTION" in text or "Could not connect" in text:
        return (
            f"cannot reach the object store at {endpoint}{where}: is the server up (`make s3-up` for the "
            f"local one) and AWS_ENDPOINT_URL_S3 right? {kept}"
        )
    refused = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "TokenRefreshRequired", "NoCredentials")
    if any(word in text or word in name for word in refused):
        return (
            f"the object store at {endpoint} refused the credentials{where} ({_short(text)}): set valid or "
            f"renewed AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN for temporary ones); {kept}"
        )
    if any(word in text for word in ("AccessDenied", "ACCESS_DENIED", "NoSuchBucket")) or isinstance(
        err, PermissionError
    ):
        return (
            f"the object store at {endpoint} refused the request{where} ({_short(text)}): check that "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are right and not expired (AWS_SESSION_TOKEN for "
            f"temporary ones) and that they may read and write the bucket; {kept}"
        )
    return None


_REACHED: set[str] = set()


def check_reachable(root) -> None:
    """Fail early, with the store's own error, when an object-store warehouse cannot be reached or its
    bucket does not exist (listing calls would otherwise read as an empty warehouse). Once per process."""
    from pyarrow import fs

    bucket = uri(root).split("://", 1)[1].split("/", 1)[0]
    key = f"{sorted(_s3_options().items())}|{uri(root).split('://')[0]}|{bucket}"
    if key in _REACHED:
        return
    store, _ = fs.FileSystem.from_uri(uri(root))
    if store.get_file_info(bucket).type == fs.FileType.NotFound:
        raise StorageError(
            f"bucket {bucket!r} does not exist at {os.environ.get('AWS_ENDPOINT_URL_S3') or 'AWS'}: create it "
            "(`make s3-up` creates `demo` on the local server) or fix SENTIMENT_HOME"
        )
    _REACHED.add(key)


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_parameter(path) -> str | Path:
    """A warehouse location as a flow parameter: a local Path, or the object store's URL (a string)."""
    return uri(path) if is_remote(path) else Path(path)
