"""Platform exports with just a preset: X/Twitter (API v2 pages, twarc2 stream lines and flatten
output, v1.1 tweets), Reddit (Pushshift dumps), Mastodon, Bluesky, Hacker News, YouTube. The
fixtures follow each platform's published object reference (field names, nesting, escaping,
date formats); every one is written here."""

import io
import json

import pyarrow.parquet as pq
import zstandard

from ingestion.config import source_from_preset
from ingestion.ingest import ingest_source
from sentiment.warehouse import Warehouse

LONG = (
    "Our new train line opens today &amp; it is wonderful: forty minutes faster, quiet carriages, "
    "working wifi, and staff who could not be kinder. Thank you to everyone who built it!"
)


def _ingest(tmp_path, name: str, content: bytes | str, preset: str, **settings):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("s", path, preset, **settings), wh)
    assert summary.reconciles
    return summary, wh


def _rows(wh) -> dict[str, dict]:
    return {r["doc_id"]: r for r in pq.read_table(wh.raw, partitioning=None).to_pylist()}


def _reasons(wh) -> list[str]:
    return (
        [r["reason"] for r in pq.read_table(wh.quarantine, partitioning=None).to_pylist()]
        if wh.quarantine.exists()
        else []
    )


def _jsonl(*records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


# --- X / Twitter ------------------------------------------------------------------------------


def _v2_page(first_id: int) -> dict:
    """An API v2 search page as twarc2 writes it: data, includes (users, tweets), meta, errors, __twarc."""
    i = first_id
    return {
        "data": [
            {
                "id": f"{i}",
                "text": "RT @rail: Our new train line opens today &amp; it is wonderful: forty minutes "
                "faster, quiet carriages, working wifi, and staff who could …",
                "created_at": "2023-05-01T09:00:00.000Z",
                "author_id": "101",
                "lang": "en",
                "referenced_tweets": [{"type": "retweeted", "id": "900"}],
            },
            {
                "id": f"{i + 1}",
                "text": "Same here, 20 min late again",
                "created_at": "2023-05-01T10:30:00.000Z",
                "author_id": "102",
                "lang": "en",
                "referenced_tweets": [{"type": "replied_to", "id": "901"}],
                "in_reply_to_user_id": "103",
            },
            {
                "id": f"{i + 2}",
                "text": "This &lt;3",
                "created_at": "2023-05-01T11:00:00.000Z",
                "author_id": "102",
                "lang": "qme",
                "referenced_tweets": [{"type": "quoted", "id": "900"}],
            },
            {
                "id": f"{i + 3}",
                "text": "Our new train line opens today &amp; it is wonderful: forty minutes faster",
                "note_tweet": {"text": LONG},
                "created_at": "2023-05-01T12:00:00.000Z",
                "author_id": "103",
                "lang": "en",
            },
        ],
        "includes": {
            "users": [
                {"id": "101", "username": "commuter_ann", "name": "Ann"},
                {"id": "102", "username": "bob_rides", "name": "Bob"},
                {"id": "103", "username": "rail", "name": "Rail Co"},
            ],
            "tweets": [
                {
                    "id": "900",
                    "text": "Our new train line opens today &amp; it is wonderful: forty minutes faster",
                    "note_tweet": {"text": LONG},
                    "author_id": "103",
                    "created_at": "2023-05-01T08:00:00.000Z",
                }
            ],
        },
        "errors": [
            {
                "value": "555",
                "detail": "Could not find tweet with ids: [555].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": "555",
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
        ],
        "meta": {"newest_id": f"{i + 3}", "oldest_id": f"{i}", "result_count": 4},
        "__twarc": {
            "url": "https://api.twitter.com/2/tweets/search/recent?query=train",
            "version": "2.14.0",
            "retrieved_at": "2023-05-02T00:00:00+00:00",
        },
    }


def test_twarc2_pages_give_one_record_per_tweet_with_full_texts_usernames_and_kinds(tmp_path):
    pages = _jsonl(_v2_page(1), _v2_page(11))
    summary, wh = _ingest(tmp_path, "train.jsonl", pages, "twitter")
    # 8 tweets and 2 error entries: read counts tweets (and what is not one), not lines
    assert (summary.read, summary.written, summary.quarantined) == (10, 8, 2)
    assert summary.entities_decoded >= 4
    rows = _rows(wh)
    retweet = rows["s:1"]
    assert retweet["text"] == LONG.replace("&amp;", "&")  # the original's full text, not "RT @rail: ... …"
    assert (retweet["kind"], retweet["ref_id"], retweet["author"]) == ("retweet", "900", "commuter_ann")
    assert retweet["url"] == "https://x.com/commuter_ann/status/1" and retweet["published_at"].hour == 9
    assert (rows["s:2"]["kind"], rows["s:2"]["ref_id"]) == ("reply", "901")
    assert (rows["s:3"]["kind"], rows["s:3"]["text"]) == ("quote", "This <3")
    assert rows["s:4"]["text"] == LONG.replace("&amp;", "&") and rows["s:4"]["kind"] == "tweet"  # note_tweet
    # identical texts are different people's posts: kept (twitter's dedup_text is off), ids deduplicate
    assert rows["s:1"]["text"] == rows["s:4"]["text"] and summary.duplicates == 0
    assert (
        _reasons(wh)
        == [
            "not a tweet: the page's errors entry for tweet 555: Not Found Error: Could not find tweet with ids: [555]."
        ]
        * 2
    )
    files = sorted(p.read_bytes() for p in wh.raw.rglob("*.parquet"))
    again = ingest_source(source_from_preset("s", tmp_path / "train.jsonl", "twitter"), wh)
    assert (again.written, again.duplicates) == (0, 8)
    assert sorted(p.read_bytes() for p in wh.raw.rglob("*.parquet")) == files


def test_twarc2_stream_lines_and_flatten_output(tmp_path):
    page = _v2_page(1)
    stream = _jsonl(
        *(
            {"data": tweet, "includes": page["includes"], "matching_rules": [{"id": 1, "tag": "train"}]}
            for tweet in page["data"]
        )
    )
    summary, wh = _ingest(tmp_path, "stream.jsonl", stream, "twitter")
    assert (summary.read, summary.written) == (4, 4)
    assert _rows(wh)["s:1"]["text"] == LONG.replace("&amp;", "&")
    # flatten: one tweet per line, the author and the referenced tweets inlined
    flat = dict(
        page["data"][0],
        author={"id": "101", "username": "commuter_ann"},
        referenced_tweets=[{"type": "retweeted", "id": "900", **page["includes"]["tweets"][0]}],
        __twarc=page["__twarc"],
    )
    summary, wh = _ingest(tmp_path / "..", "flat.jsonl", _jsonl(flat), "twitter")
    row = _rows(wh)["s:1"]
    assert (row["text"], row["author"], row["kind"]) == (LONG.replace("&amp;", "&"), "commuter_ann", "retweet")


def test_v1_tweets_from_the_streaming_api(tmp_path):
    original = {
        "created_at": "Mon Oct 21 08:13:02 +0000 2019",
        "id": 1186,
        "id_str": "1186",
        "text": "Our new train line opens today &amp; it is wonderful: forty minutes faster, quiet…",
        "truncated": True,
        "extended_tweet": {"full_text": LONG},
        "user": {"id_str": "103", "screen_name": "rail"},
        "lang": "en",
    }
    retweet = {
        "created_at": "Mon Oct 21 10:13:02 +0000 2019",
        "id": 1187,
        "id_str": "1187",
        "text": "RT @rail: Our new train line opens today &amp; it is wonderful: forty minutes faster, quiet…",
        "truncated": False,
        "retweeted_status": original,
        "user": {"id_str": "101", "screen_name": "ann"},
        "lang": "en",
        "timestamp_ms": "1571652782000",
    }
    reply = {
        "created_at": "Mon Oct 21 11:00:00 +0000 2019",
        "id_str": "1188",
        "text": "@rail late again",
        "in_reply_to_status_id_str": "1186",
        "user": {"screen_name": "bob"},
        "lang": "en",
    }
    extended = {
        "created_at": "Mon Oct 21 12:00:00 +0000 2019",
        "id_str": "1189",
        "full_text": "Thanks &gt; all",
        "user": {"screen_name": "carol"},
        "lang": "und",
        "is_quote_status": True,
        "quoted_status_id_str": "1186",
    }
    delete = {"delete": {"status": {"id": 1, "id_str": "1", "user_id": 3}, "timestamp_ms": "1571652782000"}}
    summary, wh = _ingest(tmp_path, "stream.json", _jsonl(original, retweet, reply, extended, delete), "twitter")
    assert (summary.read, summary.written, summary.quarantined) == (5, 4, 1)
    rows = _rows(wh)
    assert rows["s:1186"]["text"] == LONG.replace("&amp;", "&") and rows["s:1186"]["author"] == "rail"
    assert str(rows["s:1186"]["published_at"]) == "2019-10-21 08:13:02+00:00"
    assert (rows["s:1187"]["text"], rows["s:1187"]["kind"], rows["s:1187"]["ref_id"]) == (
        LONG.replace("&amp;", "&"),
        "retweet",
        "1186",
    )
    assert (rows["s:1188"]["kind"], rows["s:1188"]["author"]) == ("reply", "bob")
    assert (rows["s:1189"]["text"], rows["s:1189"]["kind"]) == ("Thanks > all", "quote")
    assert _reasons(wh) == ["not a tweet: a v1.1 stream 'delete' notice"]


# --- Reddit -----------------------------------------------------------------------------------


def _zstd_long(data: bytes) -> bytes:
    """Compressed as Pushshift packs its monthly dumps: zstd --long=31 (a 2 GiB window), streamed."""
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=31, enable_ldm=True)
    buffer = io.BytesIO()  # streamed: no content size in the frame, so the window stays 2 GiB
    with zstandard.ZstdCompressor(compression_params=params).stream_writer(buffer, closefd=False) as writer:
        writer.write(data)
    return buffer.getvalue()


def test_a_pushshift_monthly_dump_as_named_and_packed(tmp_path):
    comments = _jsonl(
        {
            "id": "c1",
            "body": "Totally agree &gt; the rest. Tom &amp; Jerry!",
            "author": "ann",
            "created_utc": 1554076800,
            "subreddit": "trains",
            "link_id": "t3_s1",
            "parent_id": "t3_s1",
            "permalink": "/r/trains/comments/s1/new_line/c1/",
        },
        {
            "id": "c2",
            "body": "[deleted]",
            "author": "[deleted]",
            "created_utc": "1554076900",
            "subreddit": "trains",
            "link_id": "t3_s1",
            "parent_id": "t1_c1",
        },
        {
            "id": "c3",
            "body": "[removed]",
            "author": "[deleted]",
            "created_utc": 1554077000,
            "subreddit": "trains",
            "link_id": "t3_s1",
            "parent_id": "t1_c1",
        },
        {
            "id": "c4",
            "body": "&amp;#x200B;\n\nOld dump, no permalink",
            "author": "bob",
            "created_utc": "1554077100",
            "subreddit": "trains",
            "link_id": "t3_s1",
            "parent_id": "t3_s1",
        },
    )
    packed = _zstd_long(comments.encode())
    assert zstandard.get_frame_parameters(packed).window_size == 2**31
    summary, wh = _ingest(tmp_path, "RC_2019-04.zst", packed, "reddit")
    assert (summary.read, summary.written, summary.duplicates, summary.quarantined) == (4, 2, 0, 2)
    rows = _rows(wh)
    first = rows["s:t1_c1"]
    assert first["text"] == "Totally agree > the rest. Tom & Jerry!" and first["kind"] == "comment"
    assert first["url"] == "https://www.reddit.com/r/trains/comments/s1/new_line/c1/" and first["ref_id"] == "t3_s1"
    assert rows["s:t1_c4"]["text"] == "Old dump, no permalink"
    assert rows["s:t1_c4"]["url"] == "https://www.reddit.com/r/trains/comments/s1/_/c4/"
    assert sorted(_reasons(wh)) == [
        "comment has no text: its body is '[deleted]' (deleted by its author)",
        "comment has no text: its body is '[removed]' (removed by the moderators)",
    ]


def test_reddit_submissions_keep_their_title_when_the_text_is_gone(tmp_path):
    posts = _jsonl(
        {
            "id": "s1",
            "title": "Why is the new line so late?",
            "selftext": "[removed]",
            "author": "ann",
            "created_utc": 1554076800,
            "permalink": "/r/trains/comments/s1/why/",
            "subreddit": "trains",
        },
        {
            "id": "s2",
            "title": "Best commute ever!",
            "selftext": "Forty minutes faster &amp; quiet.",
            "author": "bob",
            "created_utc": 1554076800,
            "permalink": "/r/trains/comments/s2/best/",
        },
        {
            "id": "s3",
            "title": "Timetable",
            "selftext": "",
            "author": "[deleted]",
            "created_utc": 1554076800,
            "permalink": "/r/trains/comments/s3/timetable/",
        },
    )
    summary, wh = _ingest(tmp_path, "RS_2019-04.jsonl", posts, "reddit")
    assert (summary.written, summary.quarantined) == (3, 0)
    rows = _rows(wh)
    assert rows["s:t3_s1"]["text"] == "Why is the new line so late?" and rows["s:t3_s1"]["kind"] == "submission"
    assert rows["s:t3_s2"]["text"] == "Best commute ever! Forty minutes faster & quiet."  # no ". " after "!"
    assert rows["s:t3_s3"]["text"] == "Timetable" and rows["s:t3_s3"]["author"] is None


# --- Mastodon, Bluesky, Hacker News, YouTube ---------------------------------------------------


def test_mastodon_statuses(tmp_path):
    status = {
        "id": "1101",
        "created_at": "2024-02-01T09:30:00.000Z",
        "language": "en",
        "url": "https://m.example/@ann/1101",
        "content": '<p>Loving the new line! It&#39;s <a href="https://m.example/tags/rail">#rail</a></p>'
        "<p>Second paragraph</p>",
        "spoiler_text": "",
        "reblog": None,
        "in_reply_to_id": None,
        "account": {"id": "1", "username": "ann", "acct": "ann@m.example"},
    }
    boost = {
        "id": "1102",
        "created_at": "2024-02-01T10:00:00.000Z",
        "content": "",
        "spoiler_text": "",
        "url": None,
        "uri": "https://m2.example/users/bob/statuses/1102/activity",
        "language": None,
        "reblog": status,
        "in_reply_to_id": None,
        "account": {"acct": "bob"},
    }
    summary, wh = _ingest(tmp_path, "statuses.jsonl", _jsonl(status, boost), "mastodon")
    assert summary.written == 2
    rows = _rows(wh)
    assert rows["s:1101"]["text"] == "Loving the new line! It's #rail Second paragraph"
    assert rows["s:1101"]["author"] == "ann@m.example" and rows["s:1101"]["lang"] == "en"
    assert (rows["s:1102"]["kind"], rows["s:1102"]["ref_id"], rows["s:1102"]["author"]) == ("reblog", "1101", "bob")


def test_bluesky_feed_pages(tmp_path):
    def view(rkey, text, **record):
        return {
            "uri": f"at://did:plc:ann/app.bsky.feed.post/{rkey}",
            "cid": "bafy",
            "author": {"did": "did:plc:ann", "handle": "ann.bsky.social"},
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2024-03-01T12:00:00.000Z",
                "langs": ["en-GB"],
                **record,
            },
            "indexedAt": "2024-03-01T12:00:01.000Z",
        }

    quote = view(
        "q1",
        "So true & so late",
        embed={"$type": "app.bsky.embed.record", "record": {"uri": "at://did:plc:x/app.bsky.feed.post/9"}},
    )
    page = {
        "feed": [
            {"post": view("p1", "Trains are fast now <3")},
            {"post": quote},
            {
                "post": view(
                    "r1",
                    "Agreed",
                    reply={
                        "root": {"uri": "at://a/app.bsky.feed.post/0"},
                        "parent": {"uri": "at://a/app.bsky.feed.post/5"},
                    },
                )
            },
            {
                "post": view("p1", "Trains are fast now <3"),
                "reason": {
                    "$type": "app.bsky.feed.defs#reasonRepost",
                    "by": {"did": "did:plc:bob", "handle": "bob.bsky.social"},
                    "indexedAt": "2024-03-02T08:00:00.000Z",
                },
            },
        ],
        "cursor": "abc",
    }
    summary, wh = _ingest(tmp_path, "feed.json", json.dumps(page, indent=2), "bluesky")  # one pretty object
    assert (summary.read, summary.written) == (4, 4)
    rows = _rows(wh)
    post = rows["s:at://did:plc:ann/app.bsky.feed.post/p1"]
    assert post["text"] == "Trains are fast now <3" and post["author"] == "ann.bsky.social" and post["lang"] == "en"
    assert post["url"] == "https://bsky.app/profile/ann.bsky.social/post/p1" and post["kind"] == "post"
    assert rows["s:at://did:plc:ann/app.bsky.feed.post/q1"]["kind"] == "quote"
    assert rows["s:at://did:plc:ann/app.bsky.feed.post/r1"]["ref_id"] == "at://a/app.bsky.feed.post/5"
    repost = rows["s:at://did:plc:ann/app.bsky.feed.post/p1#repost-did:plc:bob"]
    assert (repost["kind"], repost["author"], repost["published_at"].day) == ("repost", "bob.bsky.social", 2)
    assert repost["url"] == post["url"]  # the reposted post's own address


def test_hacker_news_items(tmp_path):
    items = _jsonl(
        {
            "by": "ann",
            "id": 8863,
            "kids": [9224],
            "score": 111,
            "time": 1175714200,
            "title": "Show HN: A faster timetable",
            "type": "story",
            "url": "https://timetable.example/",
        },
        {
            "by": "bob",
            "id": 2921983,
            "parent": 2921506,
            "time": 1314211127,
            "type": "comment",
            "text": "Thanks, this is kind of you.<p>Here is a deal: I&#x27;ll keep writing if you keep reading.",
        },
        {"id": 5, "deleted": True, "time": 1314211127, "type": "comment"},
        {
            "by": "ann",
            "id": 160705,
            "poll": 160704,
            "score": 335,
            "text": "Yes, ban them",
            "time": 1207886576,
            "type": "pollopt",
        },
        {"about": "A user", "created": 1173923446, "id": "ann", "karma": 2937, "submitted": [8265435]},
    )
    summary, wh = _ingest(tmp_path, "items.jsonl", items, "hackernews")
    assert (summary.written, summary.quarantined) == (3, 2)
    assert _rows(wh)["s:160705"]["ref_id"] == "160704"
    rows = _rows(wh)
    assert rows["s:8863"]["text"] == "Show HN: A faster timetable" and rows["s:8863"]["kind"] == "story"
    comment = rows["s:2921983"]
    assert comment["text"] == "Thanks, this is kind of you. Here is a deal: I'll keep writing if you keep reading."
    assert comment["ref_id"] == "2921506" and comment["author"] == "bob"
    assert comment["url"] == "https://news.ycombinator.com/item?id=2921983"
    reasons = _reasons(wh)
    assert reasons[0] == "Hacker News item 5 is deleted (no text)" and "a user" in reasons[1]


def test_youtube_comment_threads(tmp_path):
    def comment(cid, text, parent=None):
        snippet = {
            "videoId": "vid1",
            "textDisplay": text.replace("<", "&lt;") + "<br>",
            "textOriginal": text,
            "authorDisplayName": f"@{cid}",
            "publishedAt": "2024-04-01T10:00:00Z",
            "updatedAt": "2024-04-01T10:00:00Z",
            "likeCount": 1,
        }
        if parent:
            snippet["parentId"] = parent
        return {"kind": "youtube#comment", "etag": "e", "id": cid, "snippet": snippet}

    page = {
        "kind": "youtube#commentThreadListResponse",
        "items": [
            {
                "kind": "youtube#commentThread",
                "id": "t1",
                "snippet": {
                    "videoId": "vid1",
                    "topLevelComment": comment("t1", "Great video <3"),
                    "totalReplyCount": 1,
                },
                "replies": {"comments": [comment("t1.r1", "Agreed, great", parent="t1")]},
            },
            {
                "kind": "youtube#commentThread",
                "id": "t2",
                "snippet": {"videoId": "vid1", "topLevelComment": comment("t2", "\ufeffFirst!"), "totalReplyCount": 0},
            },
        ],
    }
    summary, wh = _ingest(tmp_path, "threads.json", json.dumps(page), "youtube")
    assert (summary.read, summary.written, summary.chars_removed) == (3, 3, 1)
    rows = _rows(wh)
    assert rows["s:t1"]["text"] == "Great video <3" and rows["s:t1"]["author"] == "@t1"
    assert (rows["s:t1.r1"]["kind"], rows["s:t1.r1"]["ref_id"]) == ("reply", "t1")
    assert rows["s:t2"]["text"] == "First!" and rows["s:t1"]["url"] == "https://www.youtube.com/watch?v=vid1&lc=t1"


# --- GDELT --------------------------------------------------------------------------------------


def _gkg_row(record_id: str, title: str | None, tone: str, translation: str = "") -> str:
    """A GKG 2.1 line: 27 tab-separated columns, no quoting (the codebook's layout)."""
    columns = [""] * 27
    columns[0], columns[1], columns[2], columns[3] = record_id, "20250302101500", "1", "news.example"
    columns[4] = f"https://news.example/{record_id}"
    columns[7] = "TAX_FNCACT;ECON_STOCKMARKET"
    columns[15] = f"{tone},2.1,5.3,7.4,21.1,0,540"
    columns[17] = "wc:540,c1.2:3,c12.1:40"
    columns[25] = translation
    columns[26] = f"<PAGE_TITLE>{title}</PAGE_TITLE><PAGE_AUTHORS>Ann</PAGE_AUTHORS>" if title else ""
    return "\t".join(columns) + "\n"


def test_gdelt_gkg_zipped_as_published_keeps_gdelts_tone_beside_ours(tmp_path):
    import zipfile

    lines = (
        _gkg_row("20250302101500-0", "Markets rally &amp; recover", "-3.2")
        + _gkg_row("20250302101500-1", None, "1.5")
        + _gkg_row("20250302101500-2", "La bourse rebondit", "2.25", "srclc:fra;eng:GT-FRA 1.0")
    )
    path = tmp_path / "20250302101500.gkg.csv.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("20250302101500.gkg.csv", lines)
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("gdelt", path, "gdelt"), wh)
    assert summary.reconciles and (summary.read, summary.written, summary.quarantined) == (3, 2, 1)
    rows = _rows(wh)
    first = rows["gdelt:20250302101500-0"]
    assert first["text"] == "Markets rally & recover" and first["source_score"] == -3.2
    assert first["url"] == "https://news.example/20250302101500-0" and first["kind"] == "article"
    assert str(first["published_at"]) == "2025-03-02 10:15:00+00:00"
    assert rows["gdelt:20250302101500-2"]["lang"] == "fr"
    assert _reasons(wh) == ["GDELT record without a page title (V2EXTRASXML has no <PAGE_TITLE>): no text to read"]


def test_twitter_search_responses_and_pages_that_hold_no_tweets(tmp_path):
    v1_search = {
        "statuses": [
            {
                "created_at": "Mon Oct 21 08:13:02 +0000 2019",
                "id_str": "1",
                "full_text": "first",
                "user": {"screen_name": "a"},
            },
            {
                "created_at": "Mon Oct 21 08:14:02 +0000 2019",
                "id_str": "2",
                "full_text": "second\u0000",
                "user": {"screen_name": "b"},
            },
        ],
        "search_metadata": {"count": 2},
    }
    counts = {
        "data": [{"end": "2023-05-01T10:00:00.000Z", "start": "2023-05-01T09:00:00.000Z", "tweet_count": 39}],
        "meta": {"total_tweet_count": 39},
    }
    users = {"data": [{"id": "101", "name": "Ann", "username": "ann"}]}
    no_user = {
        "data": [{"id": "7", "text": "withheld author", "created_at": "2023-05-01T09:00:00.000Z", "author_id": "999"}],
        "includes": {"users": []},
    }
    summary, wh = _ingest(tmp_path, "mixed.jsonl", _jsonl(v1_search, counts, users, no_user), "twitter")
    assert (summary.read, summary.written, summary.quarantined, summary.chars_removed) == (5, 3, 2, 1)
    rows = _rows(wh)
    assert rows["s:2"]["text"] == "second" and rows["s:1"]["author"] == "a"
    assert rows["s:7"]["author"] is None and rows["s:7"]["url"] == "https://x.com/i/web/status/7"
    reasons = _reasons(wh)
    assert reasons[0].startswith("not a tweet: a counts bucket (end, start, tweet_count)")
    assert reasons[1].startswith("not a tweet: a user (id, name, username)")
    raw = json.loads(pq.read_table(wh.quarantine, partitioning=None).column("raw")[0].as_py())
    assert raw == counts["data"][0]  # the platform's own object, not a projection of it
