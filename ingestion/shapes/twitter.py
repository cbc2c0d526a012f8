"""X/Twitter exports: API v2 response pages (as the API and twarc2 write them), twarc2 stream
lines, twarc2 `flatten` output, single v2 tweets, and v1.1 tweets (streaming and REST).

Per tweet: the full text (a long post's `note_tweet`, v1.1's `extended_tweet.full_text` or
`full_text`); for a retweet the retweeted tweet's full text (from the page's `includes.tweets`,
the inlined original of `flatten`, or v1.1's `retweeted_status`), never the cut "RT @x: ...";
the author's username (None when the export has no user object for it: the
numeric `author_id` stays in `post`); the kind (tweet, retweet, quote, reply) and the id it refers to.
A page's `errors` entries (tweets that could not be delivered: deleted, protected, suspended)
are not tweets: each is quarantined with the API's own words. Text stays HTML-escaped here
(&amp; &lt; &gt;, as the API sends it); the preset decodes it (`unescape`), counted.

References: developer.x.com "Tweet object" and "Response fields" (v2), "Tweet object" and
"Extended Tweets" (v1.1); twarc2 `flatten` (DocNow/twarc, expansions.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from ingestion.fields import describe_keys
from ingestion.shapes import Rejected, post

# v2 referenced_tweets types, and the kind each makes; a retweet wins over a quote over a reply.
_KINDS = (("retweeted", "retweet"), ("quoted", "quote"), ("replied_to", "reply"))
# X's own non-language codes (media only, hashtags only, ...): no language.
_NO_LANGUAGE = {"und", "zxx", "art", "qme", "qht", "qam", "qct", "qst", "qno"}
V1_TIME = "%a %b %d %H:%M:%S %z %Y"


def unpack(record: dict) -> Iterator[dict | Rejected]:
    data = record.get("data")
    if isinstance(data, list | dict):  # a v2 page, a stream line, a single-tweet lookup
        includes = record.get("includes") or {}
        users = {u.get("id"): u for u in includes.get("users") or [] if isinstance(u, dict)}
        tweets = {t.get("id"): t for t in includes.get("tweets") or [] if isinstance(t, dict)}
        for tweet in data if isinstance(data, list) else [data]:
            if not isinstance(tweet, dict):
                yield Rejected(f"not a tweet: a 'data' element is {type(tweet).__name__}, not an object", tweet)
            elif "text" in tweet or "note_tweet" in tweet:
                yield v2_tweet(tweet, users, tweets)
            else:  # a counts page ({start, end, tweet_count}), a users page ({id, username, name}), ...
                what = (
                    "a counts bucket"
                    if "tweet_count" in tweet
                    else "a user"
                    if "username" in tweet
                    else "an element without text"
                )
                yield Rejected(
                    f"not a tweet: {what} ({describe_keys(tweet)}): this page is not a page of tweets", tweet
                )
        for error in record.get("errors") or []:
            yield Rejected(_error_reason(error), error)
    elif isinstance(record.get("statuses"), list):  # a v1.1 search response: {statuses, search_metadata}
        for tweet in record["statuses"]:
            yield (
                v1_tweet(tweet)
                if isinstance(tweet, dict)
                else Rejected("not a tweet: a status that is not an object", tweet)
            )
    elif "id_str" in record or "user" in record or "full_text" in record or "extended_tweet" in record:
        yield v1_tweet(record)
    elif "id" in record and ("text" in record or "note_tweet" in record):
        yield v2_tweet(record, {}, {})  # one tweet per line: twarc2 flatten, or a plain v2 tweet
    elif record.get("errors") and "data" not in record:
        for error in record["errors"]:
            yield Rejected(_error_reason(error), error)
    else:
        notice = next(
            (
                k
                for k in ("delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning")
                if k in record
            ),
            None,
        )
        yield Rejected(
            f"not a tweet: a v1.1 stream '{notice}' notice"
            if notice
            else "not a tweet: expected an API v2 page or stream line ({data, includes, meta}), a v2 tweet "
            "({id, text, created_at}) or a v1.1 tweet ({id_str, text or full_text, user, created_at}); "
            f"record has {describe_keys(record)}",
            record,
        )


def _error_reason(error: object) -> str:
    if not isinstance(error, dict):
        return f"not a tweet: an API error entry: {error!r}"[:500]
    what = error.get("title") or error.get("type") or "error"
    detail = error.get("detail") or error.get("message") or ""
    about = error.get("resource_id") or error.get("value")
    return (
        f"not a tweet: the page's errors entry for {error.get('resource_type') or 'resource'} {about}: "
        f"{what}: {detail}".rstrip(": ")
    )


def _full_text(tweet: dict) -> str | None:
    note = tweet.get("note_tweet")
    if isinstance(note, dict) and note.get("text"):
        return note["text"]
    return tweet.get("text")


def _username(tweet: dict, users: dict) -> str | None:
    author = tweet.get("author")
    if isinstance(author, dict) and author.get("username"):
        return author["username"]  # twarc2 flatten inlines the user
    user = users.get(tweet.get("author_id"))
    if user and user.get("username"):
        return user["username"]
    return None  # no user object in the export (withheld, or no expansions): post.author_id has the id


def _lang(value: object) -> str | None:
    return None if not isinstance(value, str) or value in _NO_LANGUAGE else value


def _tweet_url(username: str | None, tweet_id: object) -> str | None:
    if tweet_id is None:
        return None
    if username:
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def v2_tweet(tweet: dict, users: dict, tweets: dict) -> dict:
    kind, ref_id, original = "tweet", None, None
    references = [r for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict)]
    for type_, name in _KINDS:
        ref = next((r for r in references if r.get("type") == type_), None)
        if ref is not None:
            kind, ref_id = name, ref.get("id")
            # flatten inlines the referenced tweet in the reference itself; pages have it in includes
            original = ref if "text" in ref or "note_tweet" in ref else tweets.get(ref_id)
            break
    text = _full_text(tweet)
    if kind == "retweet" and original is not None and _full_text(original):
        text = _full_text(original)
    username = _username(tweet, users)
    return post(
        id=tweet.get("id"),
        text=text,
        published_at=tweet.get("created_at"),
        author=username,
        lang=_lang(tweet.get("lang")),
        kind=kind,
        ref_id=ref_id,
        url=_tweet_url(username, tweet.get("id")),
        post=tweet,
    )


def _v1_full_text(tweet: dict) -> str | None:
    extended = tweet.get("extended_tweet")
    if isinstance(extended, dict) and extended.get("full_text"):
        return extended["full_text"]
    return tweet.get("full_text") or tweet.get("text")


def _v1_time(tweet: dict) -> str | int | None:
    stamp = tweet.get("created_at")
    if isinstance(stamp, str):
        try:
            return datetime.strptime(stamp, V1_TIME).isoformat()
        except ValueError:
            return stamp  # reported by the timestamp parser with the value
    return stamp if stamp is not None else tweet.get("timestamp_ms")


def v1_tweet(tweet: dict) -> dict:
    tweet_id = tweet.get("id_str") or (str(tweet["id"]) if tweet.get("id") is not None else None)
    user = tweet.get("user") if isinstance(tweet.get("user"), dict) else {}
    retweeted = tweet.get("retweeted_status") if isinstance(tweet.get("retweeted_status"), dict) else None
    text = _v1_full_text(tweet)
    if retweeted is not None:
        kind, ref_id, text = "retweet", retweeted.get("id_str") or retweeted.get("id"), _v1_full_text(retweeted)
    elif tweet.get("quoted_status_id_str") or tweet.get("is_quote_status") and tweet.get("quoted_status_id"):
        kind, ref_id = "quote", tweet.get("quoted_status_id_str") or tweet.get("quoted_status_id")
    elif tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"):
        kind, ref_id = "reply", tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")
    else:
        kind, ref_id = "tweet", None
    username = user.get("screen_name")
    return post(
        id=tweet_id,
        text=text,
        published_at=_v1_time(tweet),
        author=username,
        lang=_lang(tweet.get("lang")),
        kind=kind,
        ref_id=str(ref_id) if ref_id is not None else None,
        url=_tweet_url(username, tweet_id),
        post=tweet,
    )
