"""Reddit, as the Pushshift dumps and Reddit's own API write it: comments (`body`) and
submissions (`title`, `selftext`), one object per line (the monthly RC_/RS_ dumps, subreddit
dumps, API listings' `data` objects).

Moderation placeholders are not text: a submission whose `selftext` is "[deleted]" or
"[removed]" keeps its title; a comment whose body is one is quarantined with that reason
(it is not a duplicate of the other deleted comments). The id is Reddit's fullname (t1_ for
comments, t3_ for submissions: the two kinds number their ids apart, so a comment and a
submission can share one). Links are absolute, from `permalink`. Reddit escapes &, < and > in
text (&amp; &lt; &gt;): the preset decodes them (`unescape`), counted; "&#x200B;", the
zero-width space people type to make blank lines in markdown, is removed.
"""

from __future__ import annotations

from collections.abc import Iterator

from ingestion.fields import describe_keys
from ingestion.shapes import Rejected, post

PLACEHOLDERS = {
    "[deleted]": "deleted by its author",
    "[removed]": "removed by the moderators",
    "[ Removed by Reddit ]": "removed by Reddit",
    "[removed by reddit]": "removed by Reddit",
}
SITE = "https://www.reddit.com"
_ZWSP_ESCAPED = ("&amp;#x200B;", "&amp;#x200b;", "&#x200B;", "&#x200b;")


def _text(value: object) -> object:
    if isinstance(value, str):
        for escaped in _ZWSP_ESCAPED:
            value = value.replace(escaped, "")
    return value


def _placeholder(value: object) -> str | None:
    return PLACEHOLDERS.get(value.strip()) if isinstance(value, str) else None


def _author(value: object) -> str | None:
    return None if not isinstance(value, str) or value in ("[deleted]", "[removed]") else value


def _fullname(record: dict, prefix: str) -> str | None:
    name = record.get("name")
    if isinstance(name, str) and name.startswith(prefix):
        return name
    native = record.get("id")
    if native is None:
        return None
    return str(native) if str(native).startswith(prefix) else f"{prefix}{native}"


def _url(record: dict) -> str | None:
    link = record.get("permalink")
    if isinstance(link, str) and link:
        return link if link.startswith("http") else SITE + (link if link.startswith("/") else "/" + link)
    link_id, sub = record.get("link_id"), record.get("subreddit")
    if isinstance(link_id, str) and sub and record.get("id"):  # old comment dumps have no permalink
        return f"{SITE}/r/{sub}/comments/{link_id.removeprefix('t3_')}/_/{record['id']}/"
    return None


def unpack(record: dict) -> Iterator[dict | Rejected]:
    if record.get("kind") in ("t1", "t3") and isinstance(record.get("data"), dict):  # an API listing child
        record = record["data"]
    if "body" in record:
        yield comment(record)
    elif "title" in record or "selftext" in record:
        yield submission(record)
    else:
        yield Rejected(
            "not a Reddit comment or submission: expected body (comment) or title and selftext "
            f"(submission); record has {describe_keys(record)}",
            record,
        )


def comment(record: dict) -> dict | Rejected:
    why = _placeholder(record.get("body"))
    if why:
        return Rejected(f"comment has no text: its body is {record['body'].strip()!r} ({why})", record)
    return post(
        id=_fullname(record, "t1_"),
        text=_text(record.get("body")),
        published_at=record.get("created_utc"),
        author=_author(record.get("author")),
        kind="comment",
        ref_id=record.get("parent_id"),
        url=_url(record),
        post=record,
    )


def submission(record: dict) -> dict:
    body = record.get("selftext")
    if _placeholder(body) or (isinstance(body, str) and not body.strip()):
        body = None  # the title alone is the text
    ref = record.get("crosspost_parent")
    return post(
        id=_fullname(record, "t3_"),
        text=_text(body),
        title=_text(record.get("title")),
        published_at=record.get("created_utc"),
        author=_author(record.get("author")),
        kind="crosspost" if ref else "submission",
        ref_id=ref,
        url=_url(record),
        post=record,
    )
