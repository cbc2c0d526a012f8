"""Pure functions that turn one raw record's fields into clean values, or say why not."""

from __future__ import annotations

import html
import math
import re
import unicodedata
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

_WHITESPACE = re.compile(r"\s+")
# Lone UTF-16 surrogates: JSON text may escape one ("\\ud83d") without its pair, and json.loads
# keeps it; no UTF-8 (so no Parquet column) can hold it. A valid escaped pair decodes to one character.
_SURROGATE = re.compile("[\ud800-\udfff]")
REPLACEMENT = "\ufffd"
# Characters that are there but not seen: a byte-order mark inside the text (U+FEFF), zero-width
# spaces and word joiners, and control characters that are not whitespace (NUL and the like, found
# in old Reddit dumps). Zero-width (non-)joiners (U+200C, U+200D) are kept: they shape emoji
# sequences and Indic and Persian script. INVISIBLE_CLASS is the same set spelled for RE2.
_INVISIBLE_CODES = (*range(0x00, 0x09), *range(0x0E, 0x1C), 0x7F, 0x180E, 0x200B, 0x2060, 0xFEFF)
INVISIBLE = re.compile("[" + "".join(re.escape(chr(c)) for c in _INVISIBLE_CODES) + "]")
INVISIBLE_CLASS = "[" + "".join(f"\\x{{{c:x}}}" for c in _INVISIBLE_CODES) + "]"
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Titles that end a sentence already: joined to the body with a space, not ". ".
_TERMINAL = (".", "!", "?", "…", ":", ";", "。", "！", "？")
# Twitter API v1.1's created_at: "Wed Oct 10 20:19:24 +0000 2018".
_TWITTER_V1 = "%a %b %d %H:%M:%S %z %Y"
# Epoch values above this are milliseconds (1e11 s is the year 5138).
_EPOCH_MS_THRESHOLD = 1e11


class RecordError(ValueError):
    """A record that cannot be ingested; the message is the quarantine reason."""


def repair_text(value: str) -> tuple[str, int]:
    """`value` with each lone surrogate replaced by U+FFFD, and how many were replaced."""
    return _SURROGATE.subn(REPLACEMENT, value)


def remove_invisible(value: str) -> tuple[str, int]:
    """`value` without byte-order marks and zero-width spaces, and how many were removed."""
    return INVISIBLE.subn("", value)


def unescape_entities(value: str) -> tuple[str, int]:
    """`value` with its HTML entities (&amp; &lt; &#39; ...) decoded, and how many there were."""
    count = len(_ENTITY.findall(value)) if "&" in value else 0
    return (html.unescape(value), count) if count else (value, 0)


def join_title(title: str, body: str) -> str:
    """ "title. body", or "title body" when the title ends a sentence itself ("Why? body")."""
    return f"{title} {body}" if title.rstrip().endswith(_TERMINAL) else f"{title}. {body}"


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
    elif isinstance(value, str) and (compact := _compact_time(value.strip())) is not None:
        moment = compact
    elif isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        return parse_timestamp(float(value), tz)  # epoch seconds or milliseconds as text
    elif isinstance(value, str):
        moment = _parse_text_time(value.strip())
    else:
        raise RecordError(f"unparseable timestamp of type {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(UTC)


def _compact_time(value: str) -> datetime | None:
    """YYYYMMDD or YYYYMMDDHHMMSS as text (GDELT's SQLDATE and DATEADDED), years 1900-2100; else None
    (other digit strings are epoch seconds or milliseconds)."""
    if len(value) not in (8, 14) or not value.isdigit() or not ("19" <= value[:2] <= "21"):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d" if len(value) == 8 else "%Y%m%d%H%M%S")
    except ValueError:
        return None


# RFC 2822 dates written with another language's day and month names, as some feeds do
# ("Seg, 24 Set 2018 19:42:40 -0300"): Portuguese, Spanish, French, German, Italian.
_MONTHS = {
    name: english
    for english, names in {
        "Jan": ("jan", "ene", "janv", "gen"),
        "Feb": ("fev", "feb", "févr", "fevr", "fév"),
        "Mar": ("mar", "mars", "mär", "mrz"),
        "Apr": ("abr", "avr", "apr"),
        "May": ("mai", "mayo", "may", "mag"),
        "Jun": ("jun", "juin", "giu"),
        "Jul": ("jul", "juil", "lug"),
        "Aug": ("ago", "août", "aou", "aug"),
        "Sep": ("set", "sept", "sep"),
        "Oct": ("out", "oct", "okt", "ott"),
        "Nov": ("nov",),
        "Dec": ("dez", "dic", "déc", "dec"),
    }.items()
    for name in names
}
_LOCAL_DATE = re.compile(r"^\s*(?:[^\W\d]+\.?,\s*)?(\d{1,2})\.?\s+([^\W\d]+)\.?\s+(\d{4})", re.U)


def _in_english(value: str) -> str:
    """`value` with a leading day name dropped and the month name in English, when it is one of
    _MONTHS (else unchanged)."""
    match = _LOCAL_DATE.match(value)
    month = _MONTHS.get(match.group(2).lower()) if match else None
    if not month:
        return value
    return f"{match.group(1)} {month} {match.group(3)}{value[match.end() :]}"


def _parse_text_time(value: str) -> datetime:
    """ISO-8601, Twitter v1.1's "Wed Oct 10 20:19:24 +0000 2018", or RFC 2822 (e-mail, RSS)."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        pass
    try:
        return datetime.strptime(value, _TWITTER_V1)
    except ValueError:
        pass
    for attempt in (value, _in_english(value)):
        try:
            return parsedate_to_datetime(attempt)
        except (TypeError, ValueError, IndexError):
            continue
    raise RecordError(
        f"unparseable timestamp: {value[:40]!r} (expected ISO-8601 such as 2025-03-02T08:00:00Z, "
        "epoch seconds, or an RFC 2822 / Twitter v1.1 date)"
    )


def optional_str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):  # e.g. a list of authors
        value = ", ".join(str(v).strip() for v in value if v is not None and str(v).strip())
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


# Markup left after one pass: the HTML was escaped twice (some feeds, e.g. Reddit's Atom).
_MARKUP = re.compile(r"<(?:p|div|br|span|a|b|i|em|strong|ul|ol|li|img|table|!--)[\s/>]", re.I)


def html_to_text(value: str) -> str:
    text = _html_pass(value)
    return _html_pass(text) if _MARKUP.search(text) else text


def _html_pass(value: str) -> str:
    parser = _TextExtractor()
    parser.feed(value)
    parser.close()
    return "".join(parser.parts)
