"""Pure functions that turn one raw record's fields into clean values, or say why not."""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from datetime import UTC, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

_WHITESPACE = re.compile(r"\s+")
# Lone UTF-16 surrogates: JSON text may escape one ("\\ud83d") without its pair, and json.loads
# keeps it; no UTF-8 (so no Parquet column) can hold it. A valid escaped pair decodes to one character.
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# Epoch values above this are milliseconds (1e11 s is the year 5138).
_EPOCH_MS_THRESHOLD = 1e11


class RecordError(ValueError):
    """A record that cannot be ingested; the message is the quarantine reason."""


def repair_text(value: str) -> tuple[str, int]:
    """`value` with each lone surrogate replaced by U+FFFD, and how many were replaced."""
    return _SURROGATE.subn(REPLACEMENT, value)


def storable(value: object, what: str) -> str | None:
    """A stripped string that UTF-8 can hold, for identifying fields (id, language):
    RecordError when it holds a lone surrogate, since repairing it would change its identity."""
    text = optional_str(value)
    if text is not None and _SURROGATE.search(text):
        raise RecordError(f"{what} holds an invalid character (a lone UTF-16 surrogate): {text[:40]!r}")
    return text


def clean_text(value: object) -> str:
    """NFC-normalised text with whitespace collapsed; RecordError if there is none."""
    if value is None:
        raise RecordError("missing text")
    if not isinstance(value, str):
        raise RecordError(f"text is not a string but {type(value).__name__}")
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    if not text:
        raise RecordError("empty text (only whitespace)")
    return text


def parse_timestamp(value: object, tz: str = "UTC") -> datetime:
    """A UTC datetime from a datetime, epoch seconds/milliseconds or ISO-8601 text.

    Naive values are read in the source's time zone `tz`.
    """
    if value is None:
        raise RecordError("missing timestamp")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, bool):
        raise RecordError(f"unparseable timestamp: {value!r}")
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            raise RecordError(f"unparseable timestamp: {value!r}")
        seconds = value / 1000 if abs(value) > _EPOCH_MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as err:
            raise RecordError(f"timestamp out of range: {value!r}") from err
    elif isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return parse_timestamp(float(value), tz)  # epoch seconds or milliseconds as text
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as err:
            raise RecordError(f"unparseable timestamp: {value[:40]!r}") from err
    else:
        raise RecordError(f"unparseable timestamp of type {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(UTC)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def make_doc_id(source: str, native_id: object, text_hash: str) -> str:
    """Stable id: the source plus the record's own id, else plus its content hash."""
    if native_id is None or (isinstance(native_id, str) and not native_id.strip()):
        return f"{source}:h{text_hash}"
    if isinstance(native_id, float) and native_id.is_integer():
        native_id = int(native_id)
    return f"{source}:{str(native_id).strip()}"


def optional_str(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _TextExtractor(HTMLParser):
    """Text of an HTML fragment: tags dropped, entities decoded, script/style skipped."""

    _SKIP = {"script", "style", "noscript"}
    _BLOCK = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "tr", "blockquote"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(value: str) -> str:
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)
