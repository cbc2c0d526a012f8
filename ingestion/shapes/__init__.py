"""Platform record layouts, unpacked into flat records before the source's fields are read.

A shape turns one parsed record of an export (an X API v2 page, a Pushshift comment, a YouTube
comment thread) into zero or more posts, each a flat dict with the same keys:

    id, text, published_at, author, lang, kind, ref_id, url, title, score, post

`post` is the platform's own object, so any field setting can still reach into it
(`author_field = "post.author_id"`). What is not a post (an API error entry, a deleted
comment) comes back as `Rejected` with its reason and is quarantined. Records are numbered
anew as they are unpacked: a file's record N is its N-th post, so `read` counts posts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from ingestion.raw import RawRecord

POST_KEYS = ("id", "text", "published_at", "author", "lang", "kind", "ref_id", "url", "title", "score")


@dataclass(frozen=True)
class Rejected:
    """Something in an export that is not a post, and why."""

    reason: str
    raw: object


def post(**values) -> dict:
    """A flat post with every key of POST_KEYS (None where the platform has nothing)."""
    unknown = set(values) - {*POST_KEYS, "post"}
    if unknown:
        raise TypeError(f"unknown post keys {sorted(unknown)}")
    return {key: values.get(key) for key in (*POST_KEYS, "post")}


def _shapes() -> dict[str, Callable[[dict], Iterable[dict | Rejected]]]:
    from ingestion.shapes import gdelt, reddit, social, twitter

    return {
        "twitter": twitter.unpack,
        "reddit": reddit.unpack,
        "mastodon": social.mastodon,
        "bluesky": social.bluesky,
        "hackernews": social.hackernews,
        "youtube": social.youtube,
        "gdelt_gkg": gdelt.gkg,
    }


SHAPES = ("twitter", "reddit", "mastodon", "bluesky", "hackernews", "youtube", "gdelt_gkg")


def unpack_records(records: Iterable[RawRecord], shape: str) -> Iterator[RawRecord]:
    """The posts of `records` (one input's, in order), numbered from 0; unparsed records and what
    is not a post keep their place in the numbering and go to the quarantine with their reason."""
    unpack = _shapes()[shape]
    number = 0
    for record in records:
        if record.fields is None:
            yield RawRecord(number, None, record.error, record.raw, record.input, record.replaced)
            number += 1
            continue
        replaced = record.replaced  # counted once, with the record's first post
        for item in unpack(record.fields):
            if isinstance(item, Rejected):
                yield RawRecord(number, None, item.reason, json.dumps(item.raw, default=str), record.input, replaced)
            else:
                yield RawRecord(number, item, input=record.input, replaced=replaced)
            number, replaced = number + 1, 0
