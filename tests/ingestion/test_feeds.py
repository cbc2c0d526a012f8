"""Feeds from a local HTTP server on 127.0.0.1 and from files: conditional GET, retries, safety."""

import http.server
import threading
import time
from functools import partial

import pyarrow.parquet as pq
import pytest

from ingestion.config import source_from_preset
from ingestion.ingest import ingest_source
from sentiment.warehouse import Warehouse

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Acme news</title><language>en-us</language>
<item><guid>n-1</guid><title>Acme &amp; partners grow</title><link>https://acme.example/1</link>
<description>&lt;p&gt;Shares &lt;b&gt;rose&lt;/b&gt; today.&lt;/p&gt;</description>
<pubDate>Thu, 04 Mar 2021 10:00:00 +0100</pubDate></item>
<item><guid>n-2</guid><title>Acme recalls a product</title><link>https://acme.example/2</link>
<description>Customers were unhappy.</description><pubDate>Fri, 05 Mar 2021 10:00:00 GMT</pubDate></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title>
<entry><id>urn:1</id><title>Hello</title><updated>2021-03-04T10:00:00Z</updated>
<content type="html">&lt;p&gt;A lovely day&lt;/p&gt;</content><link href="https://b.example/1"/></entry>
</feed>"""

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<rss version="2.0"><channel><item><title>&lol2;</title></item></channel></rss>"""


@pytest.fixture
def server():
    """Serves RSS at /feed (with an ETag), 500 at /broken, a slow answer at /slow."""
    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append((self.path, self.headers.get("If-None-Match")))
            if self.path == "/broken":
                self.send_response(500)
                self.end_headers()
            elif self.path == "/slow":
                time.sleep(1.5)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(RSS)
                except OSError:  # the client gave up (that is the point of the test)
                    pass
            elif self.headers.get("If-None-Match") == '"v1"':
                self.send_response(304)
                self.end_headers()
            else:
                body = BOMB if self.path == "/bomb" else RSS
                self.send_response(200)
                self.send_header("ETag", '"v1"')
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    httpd.shutdown()


def _rows(wh):
    return {r["doc_id"]: r for r in pq.read_table(wh.raw, partitioning=None).to_pylist()}


def test_rss_over_http_then_nothing_transferred_when_unchanged(server, tmp_path):
    url, seen = server
    wh = Warehouse(tmp_path / "wh")
    spec = source_from_preset("acme", f"{url}/feed", "feed")
    first = ingest_source(spec, wh)
    assert (first.read, first.written) == (2, 2)
    row = _rows(wh)["acme:n-1"]
    assert row["text"] == "Acme & partners grow. Shares rose today."
    assert row["lang"] == "en" and row["url"] == "https://acme.example/1" and row["published_at"].hour == 9
    again = ingest_source(spec, wh)
    assert (again.read, again.written, again.errors) == (0, 0, [])
    assert seen[-1] == ("/feed", '"v1"')  # the conditional GET: answered 304, no body


def test_atom_from_a_file(tmp_path):
    path = tmp_path / "blog.atom"
    path.write_bytes(ATOM)
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("blog", path, "feed"), wh)
    assert summary.written == 1 and _rows(wh)["blog:urn:1"]["text"] == "Hello. A lovely day"


def test_server_errors_are_retried_then_reported_and_other_sources_still_run(server, tmp_path):
    url, seen = server
    wh = Warehouse(tmp_path / "wh")
    broken = ingest_source(source_from_preset("b", f"{url}/broken", "feed", http_retries=1), wh)
    assert [p for p, _ in seen].count("/broken") == 2  # the first try and one retry
    assert "HTTP 500" in broken.errors[0]["error"] and "2 attempt" in broken.errors[0]["error"]
    slow = ingest_source(source_from_preset("s", f"{url}/slow", "feed", http_retries=0, http_timeout=0.3), wh)
    assert "timed out" in slow.errors[0]["error"].lower() or "timeout" in slow.errors[0]["error"].lower()
    fine = ingest_source(source_from_preset("acme", f"{url}/feed", "feed"), wh)
    assert fine.written == 2


def test_entity_expansion_is_refused(server, tmp_path):
    url, _ = server
    summary = ingest_source(source_from_preset("x", f"{url}/bomb", "feed"), Warehouse(tmp_path / "wh"))
    assert summary.written == 0 and "refused" in summary.errors[0]["error"]
    assert summary.quarantined == 1 and summary.reconciles
