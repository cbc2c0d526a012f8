"""Mastodon statuses, Bluesky posts, Hacker News items and YouTube comment threads, as their
APIs return them (a page of results, or one object per line).

References: docs.joinmastodon.org "Status" entity; Bluesky's lexicons app.bsky.feed.defs
(postView, feedViewPost, reasonRepost) and app.bsky.feed.post, and Jetstream's commit events;
github.com/HackerNews/API (items) and hn.algolia.com/api (hits); YouTube Data API v3
CommentThreads and Comments resources.
"""

from __future__ import annotations

from collections.abc import Iterator

from ingestion.fields import describe_keys
from ingestion.shapes import Rejected, post


def _not(what: str, expected: str, record: dict) -> Rejected:
    return Rejected(f"not a {what}: expected {expected}; record has {describe_keys(record)}", record)


# --- Mastodon -------------------------------------------------------------------------------


def mastodon(record: dict) -> Iterator[dict | Rejected]:
    """A Status entity (content is HTML: the preset reduces it to text). A boost (`reblog`) stores
    the boosted status's text, by the account that boosted it."""
    if "content" not in record or "account" not in record or record.get("id") is None:
        yield _not(
            "Mastodon status",
            "a Status {id, created_at, content, account, ...} (a StatusEdit of an edit "
            "history has no id: it is a version of a status, not a post)",
            record,
        )
        return
    account = record.get("account") or {}
    boosted = record.get("reblog") if isinstance(record.get("reblog"), dict) else None
    source = boosted or record
    kind, ref = (
        ("reblog", boosted.get("id"))
        if boosted
        else ("reply", record.get("in_reply_to_id"))
        if record.get("in_reply_to_id")
        else ("status", None)
    )
    warning = source.get("spoiler_text") or None  # a content warning reads like a title
    yield post(
        id=record.get("id"),
        text=source.get("content"),
        title=warning,
        published_at=record.get("created_at"),
        author=account.get("acct"),
        lang=source.get("language"),
        kind=kind,
        ref_id=ref,
        url=record.get("url") or record.get("uri"),
        post=record,
    )


# --- Bluesky --------------------------------------------------------------------------------


def _handle(author: object) -> str | None:
    return author.get("handle") or author.get("did") if isinstance(author, dict) else None


def _post_url(handle: str | None, uri: str) -> str | None:
    parts = uri.split("/") if isinstance(uri, str) else []
    if len(parts) >= 5 and parts[0] == "at:":
        return f"https://bsky.app/profile/{handle or parts[2]}/post/{parts[-1]}"
    return None


def _bsky(uri: str, record: dict, author: str | None, when: str | None, whole: dict) -> dict:
    embed = record.get("embed") if isinstance(record.get("embed"), dict) else {}
    quoted = embed.get("record") if isinstance(embed.get("record"), dict) else {}
    quoted = quoted.get("record", quoted) if isinstance(quoted.get("record"), dict) else quoted  # recordWithMedia
    reply = record.get("reply") if isinstance(record.get("reply"), dict) else None
    if reply:
        kind, ref = "reply", (reply.get("parent") or {}).get("uri")
    elif quoted.get("uri"):
        kind, ref = "quote", quoted.get("uri")
    else:
        kind, ref = "post", None
    langs = record.get("langs") if isinstance(record.get("langs"), list) else []
    lang = langs[0].split("-")[0].lower() if langs and isinstance(langs[0], str) else None
    return post(
        id=uri,
        text=record.get("text"),
        published_at=record.get("createdAt") or when,
        author=author,
        lang=lang,
        kind=kind,
        ref_id=ref,
        url=_post_url(author, uri),
        post=whole,
    )


def _post_view(view: dict, whole: dict, reason: dict | None = None) -> dict | Rejected:
    record = view.get("record") if isinstance(view.get("record"), dict) else None
    if record is None or "uri" not in view:
        return _not("Bluesky post", "a postView {uri, author, record: {text, createdAt}}", view)
    author = _handle(view.get("author"))
    if reason and "Repost" in str(reason.get("$type", "")):
        by = _handle(reason.get("by"))
        item = _bsky(view["uri"], record, author, reason.get("indexedAt"), whole)  # the url is the original's
        by_did = (reason.get("by") or {}).get("did") or by
        return {
            **item,
            "id": f"{view['uri']}#repost-{by_did}",
            "kind": "repost",
            "ref_id": view["uri"],
            "author": by,
            "published_at": reason.get("indexedAt") or item["published_at"],
        }
    return _bsky(view["uri"], record, author, view.get("indexedAt"), whole)


def bluesky(record: dict) -> Iterator[dict | Rejected]:
    """A page of getAuthorFeed/getTimeline (`feed`) or searchPosts (`posts`), one feed item
    ({post, reason}), one postView, or a Jetstream commit event creating a post."""
    if isinstance(record.get("feed"), list):
        for item in record["feed"]:
            yield from bluesky(item) if isinstance(item, dict) else [_not("Bluesky feed item", "an object", {})]
    elif isinstance(record.get("posts"), list):
        for view in record["posts"]:
            yield _post_view(view, view) if isinstance(view, dict) else _not("Bluesky post", "an object", {})
    elif isinstance(record.get("post"), dict):
        reason = record.get("reason") if isinstance(record.get("reason"), dict) else None
        yield _post_view(record["post"], record, reason)
    elif isinstance(record.get("commit"), dict):
        commit = record["commit"]
        if commit.get("collection") != "app.bsky.feed.post" or commit.get("operation") != "create":
            yield Rejected(
                f"not a Bluesky post: a Jetstream {commit.get('operation')} of {commit.get('collection')}", record
            )
            return
        uri = f"at://{record.get('did')}/app.bsky.feed.post/{commit.get('rkey')}"
        yield _bsky(uri, commit.get("record") or {}, record.get("did"), None, record)
    else:
        yield _post_view(record, record)


# --- Hacker News ----------------------------------------------------------------------------


def hackernews(record: dict) -> Iterator[dict | Rejected]:
    """An item of the official API ({id, type, by, time, text, title, parent}) or a hit of the
    Algolia search API ({objectID, created_at_i, author, comment_text or story_text, title}); a
    page of hits is unpacked. `text` is HTML: the preset reduces it to text."""
    if isinstance(record.get("hits"), list):
        for hit in record["hits"]:
            yield from hackernews(hit) if isinstance(hit, dict) else [_not("Hacker News item", "an object", {})]
        return
    if record.get("deleted") or record.get("dead"):
        yield Rejected(
            f"Hacker News item {record.get('id')} is {'deleted' if record.get('deleted') else 'dead'} (no text)", record
        )
        return
    item_id = record.get("id", record.get("objectID"))
    if item_id is None or (record.get("type") is None and "karma" in record):
        yield _not(
            "Hacker News item",
            "{id, type, by, time, text|title} or an Algolia hit {objectID, ...}; a user "
            "({id, karma, created}) is not an item",
            record,
        )
        return
    kind = record.get("type") or ("comment" if record.get("comment_text") else "story")
    text = record.get("text") or record.get("comment_text") or record.get("story_text")
    yield post(
        id=str(item_id),
        text=text,
        title=record.get("title") or record.get("story_title") if kind != "comment" else None,
        published_at=record.get("time", record.get("created_at_i")),
        author=record.get("by") or record.get("author"),
        kind=kind,
        ref_id=_str_or_none(record.get("parent", record.get("parent_id", record.get("poll")))),
        url=f"https://news.ycombinator.com/item?id={item_id}",
        post=record,
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


# --- YouTube --------------------------------------------------------------------------------


def _youtube_comment(comment: dict, whole: dict, kind: str) -> dict | Rejected:
    snippet = comment.get("snippet") if isinstance(comment.get("snippet"), dict) else None
    if snippet is None:
        return _not("YouTube comment", "a comment {id, snippet: {textOriginal, publishedAt, ...}}", comment)
    video = snippet.get("videoId")
    text = snippet.get("textOriginal")
    if text is None and snippet.get("textDisplay") is not None:  # textDisplay is HTML
        from ingestion.records import html_to_text

        text = html_to_text(snippet["textDisplay"])
    url = f"https://www.youtube.com/watch?v={video}&lc={comment.get('id')}" if video else None
    return post(
        id=comment.get("id"),
        text=text,
        published_at=snippet.get("publishedAt"),
        author=snippet.get("authorDisplayName"),
        kind=kind,
        ref_id=snippet.get("parentId") or video,
        url=url,
        post=whole,
    )


def youtube(record: dict) -> Iterator[dict | Rejected]:
    """A commentThreads.list response (`items`), one commentThread (its top-level comment and the
    replies it carries), or one comment."""
    if isinstance(record.get("items"), list):
        for item in record["items"]:
            yield from youtube(item) if isinstance(item, dict) else [_not("YouTube comment thread", "an object", {})]
        return
    snippet = record.get("snippet") if isinstance(record.get("snippet"), dict) else {}
    top = snippet.get("topLevelComment")
    if isinstance(top, dict):  # a commentThread
        yield _youtube_comment(top, record, "comment")
        for reply in (record.get("replies") or {}).get("comments") or []:
            if isinstance(reply, dict):
                yield _youtube_comment(reply, reply, "reply")
        return
    yield _youtube_comment(record, record, "reply" if snippet.get("parentId") else "comment")
