"""RSS 2.0 / RSS 1.0 / Atom feeds from a file or an http(s) URL, as raw records.

HTTP requests have a timeout and a response-size cap, are retried with backoff on
server errors and time-outs, and are conditional: the ETag and Last-Modified of each
feed are remembered, so polling an unchanged feed transfers nothing (HTTP 304). XML
with entity declarations (entity-expansion tricks) is refused before parsing.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import defusedxml.ElementTree as SafeET
import feedparser
from defusedxml import DefusedXmlException

from ingestion.sources import InputError, RawRecord, SourceSpec, is_url

log = logging.getLogger(__name__)
USER_AGENT = "sentiment-analytics/0.1 (+feed ingestion)"


class FeedError(InputError):
    """A feed that could not be fetched or parsed; the message says which and why."""


_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.I)
_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
# What expat reads itself; any other declared encoding is decoded here and handed on as UTF-8.
_EXPAT_NATIVE = {"utf-8", "utf_8", "utf8", "us-ascii", "ascii", "iso-8859-1", "latin-1", "latin1", "utf-16"}
# Legacy Chinese feeds declare gb2312 but use characters only its superset GB18030 has.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs"}


def read_feed(
    location: str,
    spec: SourceSpec,
    state_dir: Path,
    timeout: float = 20.0,
    max_bytes: int = 20 * 2**20,
    retries: int = 3,
    backoff: float = 1.0,
) -> Iterator[RawRecord]:
    """The entries of the feed at `location` (a file or an http(s) URL); nothing when an HTTP feed
    has not changed."""
    if is_url(location):
        payload = fetch(location, state_dir, timeout, max_bytes, retries, backoff)
        if payload is None:
            return
    else:
        path = Path(location)
        if not path.is_file():
            raise FeedError(f"source {spec.name!r}: feed file not found: {path}")
        payload = path.read_bytes()
    yield from parse(payload, location, spec.encoding)


def as_utf8(payload: bytes, location: str, encoding: str = "utf-8") -> bytes:
    """The feed's XML as UTF-8, from its first "<": whitespace or a byte-order mark before the XML
    declaration is dropped (feedparser tolerates it, XML parsers do not), and an encoding expat
    cannot read (gb2312, Big5, Shift_JIS, EUC-KR, ...) is decoded and the declaration rewritten."""
    payload = payload.lstrip(b"\xef\xbb\xbf \t\r\n")
    declared = _DECLARATION.match(payload)
    if not declared:
        if payload[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return payload  # UTF-16 with its byte-order mark: expat reads it
        try:
            payload.decode("utf-8")
            return payload
        except UnicodeDecodeError:
            guess = encoding if encoding not in ("utf-8", "auto") else _guess(payload)
            log.warning("%s: no encoding declared and not UTF-8: read as %s", location, guess)
            return payload.decode(guess, errors="replace").encode("utf-8")
    name = declared.group(1).decode("ascii").lower()
    if name in _EXPAT_NATIVE:
        return payload
    try:
        codec = codecs.lookup(_SUPERSETS.get(name, name)).name
    except LookupError as err:
        raise FeedError(
            f"{location}: the feed declares encoding {name!r}, which is not known; nothing was ingested from it"
        ) from err
    text = payload.decode(codec, errors="replace")
    end = declared.end()
    return b'<?xml version="1.0" encoding="utf-8"' + text.encode("utf-8")[len(payload[:end].decode(codec)) :]


def fetch(url: str, state_dir: Path, timeout: float, max_bytes: int, retries: int, backoff: float) -> bytes | None:
    """The feed's bytes, or None when the server says it has not changed since the last fetch."""
    state_file = state_dir / f"{hashlib.sha1(url.encode()).hexdigest()[:16]}.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    headers = {"User-Agent": USER_AGENT}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    last_error = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff * 2 ** (attempt - 1))
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
                payload = response.read(max_bytes + 1)
                if len(payload) > max_bytes:
                    raise FeedError(f"{url}: the response is larger than the {max_bytes:,}-byte cap; not ingested")
                state_dir.mkdir(parents=True, exist_ok=True)
                state_file.write_text(
                    json.dumps(
                        {
                            "url": url,
                            "etag": response.headers.get("ETag"),
                            "last_modified": response.headers.get("Last-Modified"),
                            "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        }
                    )
                )
                return payload
        except urllib.error.HTTPError as err:
            if err.code == 304:
                return None
            last_error = f"HTTP {err.code} {err.reason}"
            if err.code < 500 and err.code != 429:  # a client error will not go away by retrying
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
            last_error = f"{type(err).__name__}: {getattr(err, 'reason', err)}"
    raise FeedError(f"{url}: {last_error} after {attempt + 1} attempt(s); check the URL or try again later")


def _guess(payload: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(payload[: 1 << 20]).best()
    return best.encoding if best is not None else "cp1252"


def parse(payload: bytes, location: str, encoding: str = "utf-8") -> Iterator[RawRecord]:
    """The feed's entries. XML that declares entities is refused; XML that is not well-formed
    (a stray "&", a cut-off end, a comment before the declaration) is read leniently by
    feedparser, with a warning, and refused only when nothing can be read from it."""
    payload = as_utf8(payload, location, encoding)
    malformed = None
    try:
        SafeET.fromstring(payload)  # refuses DTDs with entity declarations, external entities
    except DefusedXmlException as err:
        raise FeedError(
            f"{location}: refused: the XML declares entities ({type(err).__name__}), "
            "a known expansion attack; nothing was ingested from it"
        ) from err
    except (SafeET.ParseError, ValueError) as err:
        if _ENTITY_DECLARATION.search(payload):
            raise FeedError(
                f"{location}: refused: not well-formed XML that declares entities; nothing was ingested from it"
            ) from err
        malformed = err
    feed = feedparser.parse(payload)
    if malformed is not None:
        if not feed.entries:
            raise FeedError(
                f"{location}: not well-formed XML ({malformed}) and no entries could be read from "
                "it; nothing was ingested from it"
            )
        log.warning("%s: not well-formed XML (%s); read leniently: %d entries", location, malformed, len(feed.entries))
    elif not feed.version and not feed.entries:
        raise FeedError(
            f"{location}: XML, but not an RSS or Atom feed (root <{SafeET.fromstring(payload).tag}>); "
            "nothing was ingested from it"
        )
    lang = feed.feed.get("language")
    channel = feed.feed.get("published_parsed") or feed.feed.get("updated_parsed")
    feed_date = datetime.fromtimestamp(calendar.timegm(channel), tz=UTC) if channel else None
    for number, entry in enumerate(feed.entries):
        content = entry.get("content")
        body = content[0].get("value") if content else entry.get("summary")
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        # a date feedparser cannot read ("Seg, 24 Set 2018 ..."): the text, for our own parser and
        # its reason; an entry with no date at all: the feed's own date, when it has one
        when = (
            datetime.fromtimestamp(calendar.timegm(stamp), tz=UTC)
            if stamp
            else entry.get("published") or entry.get("updated") or feed_date
        )
        yield RawRecord(
            number,
            {
                "id": entry.get("id") or entry.get("link"),
                "title": entry.get("title"),
                "content": body,
                "published": when,
                "author": entry.get("author"),
                "url": entry.get("link"),
                "lang": (lang or "").split("-")[0] or None,
            },
            input=location,
        )
