"""Source definitions, and opening their inputs (the records are read by `ingestion.readers`,
or in blocks by `ingestion.inputs`).

An input is a file, a directory or a glob; files may be JSONL (or a JSON array of
records), CSV or Parquet, and JSONL/CSV may be gzip-, zstd-, bz2- or xz-compressed: the
compression is read from the file's first bytes, whatever its name says.
"""

from __future__ import annotations

import bz2
import codecs
import glob
import gzip
import io
import json
import logging
import lzma
import os
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from ingestion.fields import as_paths
from ingestion.raw import RawRecord  # noqa: F401  (readers and shapes build them)

log = logging.getLogger(__name__)
FORMATS = ("auto", "parquet", "jsonl", "csv", "feed")
COMPRESSION_SUFFIXES = {".gz": "gzip", ".zst": "zstd", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}
FIELD_SETTINGS = (
    "id_field",
    "text_field",
    "time_field",
    "title_field",
    "author_field",
    "url_field",
    "lang_field",
    "kind_field",
    "ref_field",
    "score_field",
)
Field = str | tuple[str, ...]
# The optional field settings whose matches are counted, so that a path matching nothing in a whole
# input is reported instead of storing None silently; PARSED counts the records that could be parsed.
OPTIONAL_FIELDS = (
    "id_field",
    "title_field",
    "author_field",
    "url_field",
    "lang_field",
    "kind_field",
    "ref_field",
    "score_field",
)
PARSED = "records"
MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
)
SNIFF_BYTES = 1 << 20  # bytes sampled to guess a file's text encoding (encoding = "auto")
DEFAULT_MAX_BYTES = 8 * 2**30  # decompressed bytes read from one input file, at most
# Pushshift's monthly Reddit dumps are zstd frames with a 2 GiB window (zstd --long=31); the
# decoder needs that much window memory, and no more, whatever the file's size.
ZSTD_MAX_WINDOW = 2**31


class InputError(RuntimeError):
    """An input file that cannot be read to its end (truncated, corrupt, over the size cap), or at all
    (an unknown format, a missing file): that input's error, the run goes on with the others."""


@dataclass(frozen=True)
class SourceSpec:
    name: str  # the `source=` partition value, e.g. "twitter"
    path: Path | str  # a file, a directory or a glob; for feeds, a file or an http(s) URL
    format: str = "auto"  # one of FORMATS; auto: from the file name (feeds: say "feed")
    # Each *_field is a field name, a dotted path into nested objects ("user.screen_name"), or a
    # list of them tried in order (the first that holds a value wins).
    id_field: Field | None = "id"  # the record's own id; None: use a content hash
    text_field: Field = "text"
    text_fallbacks: tuple[str, ...] = ()  # fields tried, in order, when text_field is empty
    time_field: Field = "published_at"
    title_field: Field | None = None
    combine_title: bool = False  # the scored text is "title. text" (no ". " after a title ending in ?, ! ...)
    author_field: Field | None = None
    url_field: Field | None = None
    lang_field: Field | None = None
    kind_field: Field | None = None  # what the record is (tweet, retweet, comment, ...), where the source says
    ref_field: Field | None = None  # the post it refers to (retweeted, quoted, replied to, parent)
    score_field: Field | None = None  # the source's own sentiment score (GDELT's tone), kept beside ours
    shape: str | None = None  # a platform's record layout, unpacked first (ingestion.shapes): twitter, reddit, ...
    default_lang: str = "und"  # used when the record carries no language and detection is off or unsure
    detect_lang: bool = True  # identify the language of records that carry none (py3langid)
    dedup_text: bool = True  # the same text twice in a source-day is stored once
    timezone: str = "UTC"  # for naive timestamps
    published_at: str | None = None  # the time of records that carry none (undated corpora), ISO-8601
    html: bool = False  # text and title are HTML: reduce to text
    unescape: bool = False  # text, title and author hold HTML entities (&amp; &lt; &gt;): decode them
    max_bytes: int = DEFAULT_MAX_BYTES  # decompressed size cap per input file (feeds: per response)
    http_timeout: float = 20.0  # seconds, for feeds over http(s)
    http_retries: int = 3  # retries after a server error or a time-out, with backoff 1 s, 2 s, 4 s ...
    encoding: str = "utf-8"  # of JSONL/CSV text; "auto": guessed per file (charset-normalizer)
    delimiter: str = ","  # of CSV fields ("\t" or "tab" for tab-separated; .tsv files default to tabs)
    header: bool = True  # the CSV's first (non-blank) line names its columns
    columns: tuple[str, ...] = ()  # the CSV's column names when it has no header (header = false)
    extra: dict = field(default_factory=dict, compare=False)  # preset-specific settings

    def __post_init__(self) -> None:
        for name in FIELD_SETTINGS:  # lists (from TOML) become tuples; a text list is text + fallbacks
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                object.__setattr__(self, name, as_paths(value))
        if isinstance(self.text_field, tuple):
            object.__setattr__(self, "text_fallbacks", (*self.text_field[1:], *self.text_fallbacks))
            object.__setattr__(self, "text_field", self.text_field[0])
        object.__setattr__(self, "text_fallbacks", tuple(self.text_fallbacks))
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "delimiter", {"tab": "\t", "\\t": "\t"}.get(self.delimiter, self.delimiter))
        if len(self.delimiter) != 1:
            raise ValueError(f"source {self.name!r}: delimiter must be one character (or tab), not {self.delimiter!r}")
        if not self.header and not self.columns:
            raise ValueError(f"source {self.name!r}: header = false needs columns = [...] naming the CSV's columns")
        if self.published_at is not None:
            try:
                datetime.fromisoformat(str(self.published_at).replace("Z", "+00:00"))
            except ValueError as err:
                raise ValueError(
                    f"source {self.name!r}: published_at must be an ISO-8601 date or time such as "
                    f"2025-01-01, not {self.published_at!r}"
                ) from err
        if self.shape is not None:
            from ingestion.shapes import SHAPES

            if self.shape not in SHAPES:
                raise ValueError(f"source {self.name!r}: unknown shape {self.shape!r}; known: {', '.join(SHAPES)}")
        if self.format not in FORMATS:
            raise ValueError(f"source {self.name!r}: format must be one of {FORMATS}, not {self.format!r}")
        if not self.name or "/" in self.name or "=" in self.name:
            raise ValueError(f"source name {self.name!r} must be non-empty, without '/' or '='")
        if self.encoding != "auto":
            try:
                codecs.lookup(self.encoding)
            except LookupError as err:
                raise ValueError(
                    f"source {self.name!r}: unknown encoding {self.encoding!r} "
                    "(use a Python codec name such as utf-8 or cp1252, or auto)"
                ) from err


def is_url(location: str | Path) -> bool:
    """An http(s) URL: a feed to fetch."""
    return str(location).startswith(("http://", "https://"))


def is_remote(location: str | Path) -> bool:
    """An fsspec URL such as s3://bucket/key or gs://bucket/*.jsonl.gz (not http feeds)."""
    text = str(location)
    return "://" in text and not text.startswith(("file://", "http://", "https://"))


def local_bytes(locations: list[Path | str]) -> int:
    """The size of the local files among `locations` (remote ones and feeds count nothing)."""
    return sum(os.path.getsize(p) for p in locations if not is_remote(p) and os.path.isfile(p))


def input_files(spec: SourceSpec) -> list[Path | str]:
    """The files of a source: the file itself, a directory's files, or a glob's matches.

    fsspec URLs (s3://, gs://, ...) work when the filesystem's package is installed
    (s3fs, gcsfs); they are expanded as globs and read through fsspec.
    """
    if is_remote(spec.path):
        import fsspec

        files = [f.full_name for f in fsspec.open_files(str(spec.path))]
        if not files:
            raise FileNotFoundError(f"source {spec.name!r}: nothing matches {spec.path}")
        return files
    path = Path(spec.path)
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    else:
        files = sorted(Path(p) for p in glob.glob(str(spec.path), recursive=True) if Path(p).is_file())
    if not files:
        raise FileNotFoundError(f"source {spec.name!r}: input file not found: {spec.path} (a file, directory or glob)")
    return files


NAMED_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".tab": "csv",
    ".parquet": "parquet",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
    ".rdf": "feed",
}


class FormatError(InputError, ValueError):
    """An input whose format neither its name nor its first bytes tell."""


def file_format(path: Path, declared: str = "auto") -> tuple[str, str | None]:
    """(format, compression) of a file, from its name unless declared (see `sniff_compression`);
    the format is "sniff" when the name does not tell (RC_2019-04.zst): `sniff_format` reads it."""
    suffixes = [s.lower() for s in path.suffixes if " " not in s]
    compression = COMPRESSION_SUFFIXES.get(suffixes[-1]) if suffixes else None
    if declared != "auto":
        return declared, compression
    base = suffixes[-2] if compression and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    return NAMED_FORMATS.get(base, "sniff"), compression


def sniff_format(path: Path | str, spec: SourceSpec) -> str:
    """The format the (decompressed) first bytes of a file say: jsonl for JSON ({ or [), feed for XML,
    parquet for PAR1; else FormatError saying what to set."""
    if not is_remote(path):
        with open(path, "rb") as handle:
            if handle.read(4) == b"PAR1":
                return "parquet"
    with _open_binary(path, None, spec.max_bytes, warn=False) as stream:
        head = stream.peek(1 << 16)[: 1 << 16].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"{", b"["):
        return "jsonl"
    if head[:1] == b"<":
        return "feed"
    raise FormatError(
        f"{path}: cannot tell the format from the name or the first bytes ({head[:24]!r}); "
        "set format = jsonl, csv, parquet or feed (or --format)"
    )


def resolve_format(path: Path | str, spec: SourceSpec) -> str:
    """The format of one input: declared, else from its name, else from its first bytes."""
    fmt, _ = file_format(Path(str(path).split("://")[-1]), spec.format)
    return sniff_format(path, spec) if fmt == "sniff" else fmt


def sniff_compression(head: bytes) -> str | None:
    """The compression a file's first bytes say (gzip, zstd, bz2, xz), or None."""
    return next((name for magic, name in MAGIC if head.startswith(magic)), None)


@contextmanager
def open_input(path: Path | str, spec: SourceSpec, fmt: str | None = None):
    """(shape, decompressed byte stream, text encoding) of a JSONL or CSV input; the shape is csv,
    jsonl or json-array (a .json/.jsonl file holding one array). A read error while the input is
    open, here or in the caller, becomes InputError."""
    _, named = file_format(Path(str(path).split("://")[-1]), spec.format)
    fmt = fmt or resolve_format(path, spec)  # the caller may know it already (sniffing reads the file)
    try:
        with _open_binary(path, named, spec.max_bytes) as stream:
            encoding = _encoding(stream, spec.encoding, path)
            if fmt == "csv":
                yield "csv", stream, encoding
            else:
                yield _json_shape(stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]), stream, encoding
    except (EOFError, OSError, zstandard.ZstdError, lzma.LZMAError, zipfile.BadZipFile) as err:
        raise InputError(
            f"{path}: {type(err).__name__}: {err}. The file looks truncated or corrupt: "
            "the records before this point were ingested; re-export or re-download it"
        ) from err


def _json_shape(head: bytes) -> str:
    """json-array (one array of records), json-object (the file is one object, e.g. pretty-printed)
    or jsonl (one object per line), from the file's first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"[":
        return "json-array"
    if text[:1] != b"{":
        return "jsonl"
    first_line = text.split(b"\n", 1)[0].strip()
    if first_line == b"{":
        return "json-object"  # pretty-printed
    if len(head) < SNIFF_BYTES and b"\n" in text.strip():  # the whole file is in view
        try:
            json.loads(first_line)
        except ValueError:
            try:
                return "json-object" if isinstance(json.loads(text), dict) else "jsonl"
            except ValueError:
                return "jsonl"
    return "jsonl"


class _CappedReader(io.RawIOBase):
    """Raises once more than `cap` decompressed bytes have been read (decompression bombs)."""

    def __init__(self, raw, cap: int, path: Path):
        self.raw, self.cap, self.path, self.count = raw, cap, path, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        self.count += len(data)
        if self.count > self.cap:
            raise InputError(
                f"{self.path}: more than {self.cap:,} bytes after decompression (size cap); "
                "the rest of the file was not read. Raise max_bytes if the file is genuine"
            )
        buffer[: len(data)] = data
        return len(data)


class _ZstdReader(io.RawIOBase):
    """Decompresses a zstd stream of one or more frames; an input that ends inside a frame
    raises EOFError (zstandard's stream reader would just stop, losing the rest silently)."""

    def __init__(self, handle, chunk: int = 1 << 20):
        self.handle, self.chunk = handle, chunk
        self.dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self.dobj = self.dctx.decompressobj()
        self.in_frame = False  # input has been fed to a frame that has not ended
        self.pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            data = self.handle.read(self.chunk)
            if not data:
                if self.in_frame:
                    raise EOFError("zstd stream ended inside a frame")
                return 0
            self.pending = self._feed(data)
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size

    def _feed(self, data: bytes) -> bytes:
        out = []
        while data:
            out.append(self.dobj.decompress(data))
            self.in_frame = not self.dobj.eof
            data = self.dobj.unused_data if self.dobj.eof else b""
            if self.dobj.eof:
                self.dobj, self.in_frame = self.dctx.decompressobj(), False
        return b"".join(out)

    def close(self) -> None:
        self.handle.close()
        super().close()


def _open_raw(path: Path | str):
    if is_remote(path):
        import fsspec

        return fsspec.open(str(path), "rb").open()
    return Path(path).open("rb")


def _open_binary(path: Path | str, named: str | None, cap: int, warn: bool = True):
    """The file's decompressed bytes; the compression is the one its first bytes say (`named`: its name's)."""
    handle = _open_raw(path)
    compression = sniff_compression(handle.read(8))
    handle.seek(0)
    if compression != named and warn:
        log.warning(
            "%s: its name says %s but its bytes say %s; read as %s",
            path,
            named or "uncompressed",
            compression or "uncompressed",
            compression or "uncompressed",
        )
    if compression == "gzip":
        raw = gzip.GzipFile(fileobj=handle, mode="rb")
    elif compression == "zstd":
        raw = _ZstdReader(handle)
    elif compression == "bz2":
        raw = bz2.BZ2File(handle, mode="rb")
    elif compression == "xz":
        raw = lzma.LZMAFile(handle, mode="rb")
    elif compression == "zip":
        raw = _zip_member(handle, path)
    else:
        raw = handle
    return io.BufferedReader(_CappedReader(raw, cap, path), buffer_size=1 << 20)


def _zip_member(handle, path):
    """The one file of a zip archive (GDELT, Kaggle and many portals publish CSVs zipped alone)."""
    try:
        archive = zipfile.ZipFile(handle)
    except zipfile.BadZipFile as err:
        raise InputError(f"{path}: not a readable zip archive ({err}); re-download it") from err
    members = [info for info in archive.infolist() if not info.is_dir()]
    if len(members) != 1:
        raise InputError(f"{path}: a zip archive of {len(members)} files; unpack it and ingest the folder")
    return archive.open(members[0])


def parquet_batches(path: Path | str, rows: int = 8192) -> Iterator[pa.RecordBatch]:
    source = path
    if is_remote(path):
        import fsspec

        source = fsspec.open(str(path), "rb").open()
    yield from pq.ParquetFile(source).iter_batches(batch_size=rows)


def _encoding(stream, declared: str, path) -> str:
    """The file's text encoding: `declared`, or for "auto" charset-normalizer's guess on its first MiB."""
    if declared != "auto":
        return declared
    from charset_normalizer import from_bytes

    best = from_bytes(stream.peek(SNIFF_BYTES)[:SNIFF_BYTES]).best()
    found = best.encoding if best is not None else "utf-8"
    log.info("%s: encoding detected as %s", path, found)
    return found
