"""Dataset download: checksum-verified, cached, atomic; served from 127.0.0.1, never the internet."""

import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import pandas as pd
import pytest

from sentiment.datasets import ChecksumError, RemoteFile, convert_airline_tweets, fetch
from sentiment.settings import DataMissingError, require_file


@pytest.fixture
def server(tmp_path):
    """A local HTTP server over tmp_path/www that counts requests."""
    root = tmp_path / "www"
    root.mkdir()
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()


def test_fetch_verifies_caches_and_refuses_corrupt_files(server, tmp_path):
    root, url, hits = server
    payload = b"id,text\n1,hello\n"
    (root / "data.csv").write_bytes(payload)
    good = RemoteFile("x", f"{url}/data.csv", hashlib.sha256(payload).hexdigest(), "data.csv")
    cache = tmp_path / "cache"
    assert fetch(good, cache).read_bytes() == payload
    assert fetch(good, cache).read_bytes() == payload
    assert len(hits) == 1  # the verified cached copy is not fetched again

    bad = RemoteFile("y", f"{url}/data.csv", "0" * 64, "other.csv")
    with pytest.raises(ChecksumError, match="expected 0000"):
        fetch(bad, cache)
    assert not (cache / "other.csv").exists()
    assert sorted(p.name for p in cache.iterdir()) == ["data.csv"]  # no partial file left


def test_fetch_unzips_the_member_and_caps_size(server, tmp_path):
    root, url, _ = server
    member = b"Date,News\n2016-07-01,b'Headline'\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("RedditNews.csv", member)
    (root / "news.csv.zip").write_bytes(buffer.getvalue())
    remote = RemoteFile("r", f"{url}/news.csv.zip", hashlib.sha256(member).hexdigest(), "RedditNews.csv")
    assert fetch(remote, tmp_path / "c").read_bytes() == member
    tiny_cap = RemoteFile("r", f"{url}/news.csv.zip", remote.sha256, "Other.csv", max_bytes=10)
    with pytest.raises(ValueError, match="cap"):
        fetch(tiny_cap, tmp_path / "c")


def test_convert_airline_csv_into_the_published_layout(tmp_path):
    rows = []
    for i in range(30):
        label = ["negative", "neutral", "positive"][i % 3]
        rows.append(
            {
                "tweet_id": str(1000 + i),
                "airline_sentiment": label,
                "airline": "United",
                "name": f"u{i}",
                "text": f"tweet {i}",
                "tweet_created": "2015-02-24 11:35:52 -0800",
            }
        )
    rows.append(dict(rows[0]))  # a repeated id, as in the real file
    csv = tmp_path / "Tweets.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    convert_airline_tweets(csv, tmp_path / "out")
    folder = tmp_path / "out" / "airline_tweets"
    assert len(pd.read_parquet(folder / "all.parquet")) == 31
    splits = {s: pd.read_parquet(folder / f"{s}.parquet") for s in ("train", "validation", "test")}
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [24, 3, 3]
    ids = pd.concat(splits.values())["doc_id"]
    assert ids.is_unique and len(ids) == 30
    assert str(pd.read_parquet(folder / "all.parquet")["published_at"].iloc[0]) == "2015-02-24 19:35:52+00:00"


def test_missing_data_message_says_what_to_do(tmp_path):
    with pytest.raises(DataMissingError) as err:
        require_file(tmp_path, "sst2/train.parquet")
    message = str(err.value)
    assert "sst2/train.parquet" in message and "SENTIMENT_DATA_DIR" in message and "datasets download" in message
