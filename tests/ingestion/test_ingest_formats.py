"""Plain files, feeds and what ingestion says about them: nested field paths and fallbacks,
text as people wrote it, feed files and URLs with just the preset, legacy encodings, tab-
separated files without a header, undated corpora, one-object JSON files, and errors and
warnings that name the fix; one failing input never stops the others."""

import json

import pyarrow.parquet as pq
from typer.testing import CliRunner

from ingestion.config import source_from_preset
from ingestion.ingest import ingest_source
from sentiment.warehouse import Warehouse
from sentiment_cli import app
from tests.ingestion.test_feeds import server  # noqa: F401  (the local HTTP feed server fixture)

WHEN = "2025-03-02T08:00:00Z"


def _rows(wh) -> dict[str, dict]:
    return {r["doc_id"]: r for r in pq.read_table(wh.raw, partitioning=None).to_pylist()}


def _reasons(wh) -> list[str]:
    return (
        [r["reason"] for r in pq.read_table(wh.quarantine, partitioning=None).to_pylist()]
        if wh.quarantine.exists()
        else []
    )


def _cli(*args):
    result = CliRunner().invoke(app, ["ingest", *args, "--json"])
    return result, json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else None


# --- nested fields ------------------------------------------------------------------------------


def test_dotted_paths_and_fallback_lists_reach_nested_fields(tmp_path):
    path = tmp_path / "nested.jsonl"
    path.write_text(
        "".join(
            json.dumps(r) + "\n"
            for r in [
                {"data": {"id": "1", "text": "short", "created_at": WHEN}, "user": {"screen_name": "ann"}},
                {"data": {"id": "2", "full": "the full text", "created_at": WHEN}, "user": {"screen_name": "bob"}},
                {"data": {"id": "3", "created_at": WHEN}, "user": {}},
            ]
        )
    )
    config = tmp_path / "sources.toml"
    config.write_text(
        '[sources.n]\npath = "nested.jsonl"\nid_field = "data.id"\ntext_field = ["data.full", '
        '"data.text"]\ntime_field = "data.created_at"\nauthor_field = "user.screen_name"\n'
        'url_field = "user.profile.url"\n'
    )
    result, totals = _cli("--home", str(tmp_path / "wh"), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (totals["read"], totals["written"], totals["quarantined"]) == (3, 2, 1)
    rows = _rows(Warehouse(tmp_path / "wh"))
    assert (rows["n:1"]["text"], rows["n:1"]["author"]) == ("short", "ann")
    assert (rows["n:2"]["text"], rows["n:2"]["author"]) == ("the full text", "bob")
    assert _reasons(Warehouse(tmp_path / "wh")) == [
        "missing text: looked for data.full, data.text; record has data, user"
    ]
    (warning,) = totals["sources"][0]["warnings"]  # a path that matched nothing: never a silent None
    assert "url_field 'user.profile.url' matched nothing" in warning and "The records have: data, user" in warning


def test_a_missing_text_says_what_was_looked_for_and_a_mostly_quarantined_input_says_the_fix(tmp_path):
    path = tmp_path / "page.jsonl"
    page = {"data": [{"id": "1", "text": "hello", "created_at": WHEN}], "includes": {}, "meta": {"result_count": 1}}
    path.write_text(json.dumps(page) + "\n")
    result, totals = _cli(
        "--home", str(tmp_path / "wh"), "--input", str(path), "--source", "s", "--max-quarantined", "0.5"
    )
    assert result.exit_code == 1  # everything quarantined: a pipeline must not go on with an empty day
    assert totals["over_max_quarantined"] == ["s: 1 of 1 records quarantined (100% > 50%)"]
    assert _reasons(Warehouse(tmp_path / "wh")) == ["missing text: looked for text; record has data, includes, meta"]
    (warning,) = totals["sources"][0]["warnings"]
    assert "1 of 1 records" in warning and "text_field" in warning and "twitter" in warning
    fine, _ = _cli(
        "--home",
        str(tmp_path / "wh2"),
        "--input",
        str(path),
        "--source",
        "s",
        "--preset",
        "twitter",
        "--max-quarantined",
        "0.5",
    )
    assert fine.exit_code == 0, fine.output


# --- text as people wrote it ----------------------------------------------------------------------


def test_html_exports_lose_tags_entities_and_invisible_characters_counted(tmp_path):
    path = tmp_path / "comments.csv"
    path.write_text(
        'id,text,published_at\n1,"Great video &lt;3<br />Second line\ufeff",' + WHEN + "\n"
        '2,"Plain \u200bwords",' + WHEN + "\n",
        encoding="utf-8",
    )
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("yt", path, "generic", html=True), wh)
    rows = _rows(wh)
    assert rows["yt:1"]["text"] == "Great video <3 Second line" and rows["yt:2"]["text"] == "Plain words"
    assert summary.chars_removed == 2
    escaped = tmp_path / "escaped.jsonl"
    escaped.write_text(
        json.dumps({"id": "3", "text": "Fish &amp; chips &gt; pizza &#39;24", "published_at": WHEN}) + "\n"
    )
    summary = ingest_source(source_from_preset("e", escaped, "generic", unescape=True), wh)
    assert _rows(wh)["e:3"]["text"] == "Fish & chips > pizza '24" and summary.entities_decoded == 3


def test_invisible_characters_agree_between_the_batch_path_and_the_record_path(tmp_path):
    path = tmp_path / "d.jsonl"
    lines = [{"id": i, "text": f"post {i}" + ("\ufeff" if i % 3 == 0 else ""), "published_at": WHEN} for i in range(30)]
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("s", path, "generic"), wh)
    assert summary.chars_removed == 10 and all("\ufeff" not in r["text"] for r in _rows(wh).values())


# --- feeds --------------------------------------------------------------------------------------

RSS = """<?xml version="1.0" encoding="{encoding}"?>
<rss version="2.0"><channel><title>{title}</title><language>{lang}</language>
<item><guid>n-1</guid><title>{headline}</title><link>https://n.example/1</link>
<description>{body}</description><pubDate>Thu, 04 Mar 2021 10:00:00 +0800</pubDate></item>
</channel></rss>"""


def _feed(encoding="utf-8", title="News", lang="en", headline="Trains on time", body="All of them.") -> str:
    return RSS.format(encoding=encoding, title=title, lang=lang, headline=headline, body=body)


def test_feed_files_by_extension_with_whitespace_before_the_declaration(tmp_path):
    for suffix in (".xml", ".rss", ".atom", ".rdf"):
        (tmp_path / f"feed{suffix}").write_bytes(b"\n  \xef\xbb\xbf" + _feed().encode())
    result, totals = _cli(
        "--home", str(tmp_path / "wh"), "--input", str(tmp_path / "feed.xml"), "--source", "f", "--preset", "feed"
    )
    assert result.exit_code == 0, result.output
    assert (totals["read"], totals["written"]) == (1, 1)
    assert _rows(Warehouse(tmp_path / "wh"))["f:n-1"]["text"] == "Trains on time. All of them."
    result, totals = _cli(
        "--home", str(tmp_path / "wh2"), "--input", str(tmp_path / "feed.*"), "--source", "f", "--preset", "feed"
    )
    assert (totals["read"], totals["written"], totals["duplicates"]) == (4, 1, 3)


def test_a_feed_url_with_the_feed_preset_as_the_readme_says(tmp_path, server):  # noqa: F811
    url, _ = server
    result, totals = _cli(
        "--home", str(tmp_path / "wh"), "--input", f"{url}/news.rss", "--source", "acme_news", "--preset", "feed"
    )
    assert result.exit_code == 0, result.output
    assert totals["written"] == 2


def test_a_gb2312_feed_in_a_config_run_and_a_failing_source_does_not_stop_the_others(tmp_path):
    chinese = _feed(encoding="gb2312", title="新闻", lang="zh-cn", headline="列车准点", body="乘客很满意。")
    (tmp_path / "cn.xml").write_bytes(chinese.encode("gb2312"))
    (tmp_path / "broken.xml").write_bytes(b"<html><head><title>404</title></head><body>Page not found</body></html>")
    (tmp_path / "posts.jsonl").write_text(json.dumps({"id": "1", "text": "fine", "published_at": WHEN}) + "\n")
    config = tmp_path / "sources.toml"
    config.write_text(
        '[sources.cn]\npreset = "feed"\npath = "cn.xml"\n'
        '[sources.broken]\npreset = "feed"\npath = "broken.xml"\n'
        '[sources.gone]\npath = "missing/*.jsonl"\n'
        '[sources.posts]\npath = "posts.jsonl"\n'
    )
    result, totals = _cli("--home", str(tmp_path / "wh"), "--config", str(config))
    assert result.exit_code == 1
    assert totals["failed_sources"] == ["broken", "gone"]
    by_name = {s["source"]: s for s in totals["sources"]}
    assert by_name["cn"]["written"] == 1 and by_name["posts"]["written"] == 1
    assert "not an RSS or Atom feed (root <html>)" in by_name["broken"]["errors"][0]["error"]
    assert (
        "nothing matches" in by_name["gone"]["errors"][0]["error"]
        or "not found" in by_name["gone"]["errors"][0]["error"]
    )
    row = _rows(Warehouse(tmp_path / "wh"))["cn:n-1"]
    assert row["text"] == "列车准点. 乘客很满意。" and row["lang"] == "zh"


# --- plain files ----------------------------------------------------------------------------------


def test_tab_separated_without_a_header_given_column_names(tmp_path):
    path = tmp_path / "20250302.export.CSV"
    path.write_text(
        '1\t20250302\tA "quoted" headline about trains\thttps://n.example/1\t-3.5\n'
        "2\t20250302\tAnother headline\thttps://n.example/2\t1.25\n"
    )
    config = tmp_path / "sources.toml"
    config.write_text(
        '[sources.g]\npath = "20250302.export.CSV"\ndelimiter = "\\t"\nheader = false\n'
        'columns = ["id", "day", "text", "url", "tone"]\ntime_field = "day"\n'
    )
    result, totals = _cli("--home", str(tmp_path / "wh"), "--config", str(config))
    assert result.exit_code == 0, result.output
    rows = _rows(Warehouse(tmp_path / "wh"))
    assert rows["g:1"]["text"] == 'A "quoted" headline about trains' and rows["g:1"]["url"] == "https://n.example/1"
    assert str(rows["g:1"]["published_at"]) == "2025-03-02 00:00:00+00:00"


def test_blank_lines_before_a_csv_header_and_an_undated_corpus_given_a_time(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text(
        "\n\n  \nClass Index,Title,Description\n3,Wall St. rallies,Stocks rose.\n4,New chip,Faster and cheaper.\n"
    )
    result, totals = _cli(
        "--home", str(tmp_path / "wh"), "--input", str(path), "--source", "ag", "--published-at", "2004-07-01"
    )
    assert result.exit_code == 0 and totals["quarantined"] == 2  # no text field: every row says so
    assert (
        _reasons(Warehouse(tmp_path / "wh"))[0]
        == "missing text: looked for text; record has Class Index, Title, Description"
    )
    config = tmp_path / "sources.toml"
    config.write_text(
        '[sources.ag]\npath = "news.csv"\ntext_field = "Description"\ntitle_field = "Title"\n'
        'combine_title = true\npublished_at = "2004-07-01"\nid_field = []\n'
    )
    result, totals = _cli("--home", str(tmp_path / "wh3"), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert (totals["read"], totals["written"]) == (2, 2)
    texts = sorted(r["text"] for r in _rows(Warehouse(tmp_path / "wh3")).values())
    assert texts == ["New chip. Faster and cheaper.", "Wall St. rallies. Stocks rose."]
    assert {str(r["published_at"]) for r in _rows(Warehouse(tmp_path / "wh3")).values()} == {
        "2004-07-01 00:00:00+00:00"
    }


def test_a_file_that_is_one_pretty_printed_object_is_one_record(tmp_path):
    article = {
        "authors": ["Ann Smith", "Bob Jones"],
        "date_publish": "2017-02-16 10:35:35",
        "language": "en",
        "maintext": "The new line opened today.\nPassengers were delighted.",
        "title": "Line opens",
        "url": "https://n.example/line",
        "description": None,
    }
    path = tmp_path / "article.json"
    path.write_text(json.dumps(article, indent=4, sort_keys=True))
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("np", path, "news"), wh)
    assert (summary.read, summary.written) == (1, 1)
    row = _rows(wh)["np:https://n.example/line"]
    assert row["text"] == "Line opens. The new line opened today. Passengers were delighted."
    assert row["author"] == "Ann Smith, Bob Jones" and row["lang"] == "en" and row["published_at"].hour == 10


def test_an_unknown_name_is_read_by_its_first_bytes_and_an_unreadable_input_does_not_stop_the_others(tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "RC_2019-04").write_text(
        json.dumps({"id": "1", "text": "named like a dump", "published_at": WHEN}) + "\n"
    )
    (folder / "notes.bin").write_bytes(b"\x00\x01 neither JSON nor XML")
    (folder / "z.jsonl").write_text(json.dumps({"id": "2", "text": "after the bad one", "published_at": WHEN}) + "\n")
    result, totals = _cli("--home", str(tmp_path / "wh"), "--input", str(folder), "--source", "d")
    assert result.exit_code == 1
    assert (totals["read"], totals["written"], totals["quarantined"]) == (3, 2, 1)
    (error,) = totals["errors"]
    assert error["input"].endswith("notes.bin") and "cannot tell the format" in error["error"]


def test_the_beam_job_stores_what_the_local_path_stores_for_the_new_formats(tmp_path):
    from pipelines.ingest import ingest_with_beam
    from tests.ingestion.test_ingest_platforms import _jsonl, _v2_page

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "pages.jsonl").write_text(_jsonl(_v2_page(1), _v2_page(11)))
    (tmp_path / "in" / "more.jsonl").write_text(_jsonl(_v2_page(21)))
    spec = source_from_preset("x", tmp_path / "in", "twitter")
    local, beamed = Warehouse(tmp_path / "local"), Warehouse(tmp_path / "beam")
    expected = ingest_source(spec, local)
    got = ingest_with_beam(spec, beamed)
    assert got.counts() == expected.counts() and expected.written == 12

    def stored(wh):
        return sorted(
            (r["doc_id"], r["text"], r["author"], r["kind"], r["ref_id"])
            for r in pq.read_table(wh.raw, partitioning=None).to_pylist()
        )

    assert stored(beamed) == stored(local)
    assert sorted(_reasons(beamed)) == sorted(_reasons(local))


def test_feeds_as_found_in_the_wild_are_read_leniently_and_in_their_encoding(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    # a comment before the declaration and a stray "&": not well-formed XML, read leniently with a warning
    sloppy = "<!-- generated -->\n" + _feed(headline="Trains & buses", body="On time.")
    (tmp_path / "sloppy.rss").write_text(sloppy)
    assert ingest_source(source_from_preset("a", tmp_path / "sloppy.rss", "feed"), wh).written == 1
    assert _rows(wh)["a:n-1"]["text"] == "Trains & buses. On time."
    # ISO-8859-1 without a declaration
    latin = _feed(headline="Economia cresce", body="Notícias do dia.").split("?>", 1)[1]
    (tmp_path / "latin.rss").write_bytes(latin.encode("latin-1"))
    assert ingest_source(source_from_preset("b", tmp_path / "latin.rss", "feed"), wh).written == 1
    assert _rows(wh)["b:n-1"]["text"] == "Economia cresce. Notícias do dia."
    # markup escaped twice (what some sites' Atom feeds carry)
    twice = _feed(
        body="&amp;lt;!-- SC_OFF --&amp;gt;&amp;lt;div class=&amp;quot;md&amp;quot;&amp;gt;&amp;lt;p&amp;gt;"
        "Grandma&amp;amp;#39;s cake&amp;lt;/p&amp;gt;&amp;lt;/div&amp;gt;"
    )
    (tmp_path / "twice.rss").write_text(twice)
    assert ingest_source(source_from_preset("c", tmp_path / "twice.rss", "feed"), wh).written == 1
    assert _rows(wh)["c:n-1"]["text"] == "Trains on time. Grandma's cake"


def test_any_setting_on_the_command_line_with_set(tmp_path):
    path = tmp_path / "news.csv"
    path.write_text("Title,Description\nMarkets climb,Traders were glad.\n")
    result, totals = _cli(
        "--home",
        str(tmp_path / "wh"),
        "--input",
        str(path),
        "--source",
        "ag",
        "--set",
        "text_field=Description",
        "--set",
        "title_field=Title",
        "--set",
        "combine_title=true",
        "--set",
        "id_field=[]",
        "--published-at",
        "2004-07-01",
    )
    assert result.exit_code == 0, result.output
    (row,) = _rows(Warehouse(tmp_path / "wh")).values()
    assert row["text"] == "Markets climb. Traders were glad." and row["doc_id"].startswith("ag:h")
    bad = CliRunner().invoke(
        app,
        [
            "ingest",
            "--home",
            str(tmp_path / "wh"),
            "--input",
            str(path),
            "--source",
            "ag",
            "--set",
            "text_feild=Description",
        ],
    )
    assert bad.exit_code == 2 and "unknown setting" in bad.output


def test_feed_dates_in_other_languages_and_entries_without_a_date(tmp_path):
    feed = _feed(body="Notícias.").replace("Thu, 04 Mar 2021 10:00:00 +0800", "Seg, 24 Set 2018 19:42:40 -0300")
    undated = feed.replace("<pubDate>Seg, 24 Set 2018 19:42:40 -0300</pubDate>", "").replace(
        "<language>", "<pubDate>Tue, 25 Sep 2018 06:00:00 GMT</pubDate><language>"
    )
    (tmp_path / "pt.rss").write_text(feed)
    (tmp_path / "undated.rss").write_text(undated)
    wh = Warehouse(tmp_path / "wh")
    assert ingest_source(source_from_preset("pt", tmp_path / "pt.rss", "feed"), wh).written == 1
    assert str(_rows(wh)["pt:n-1"]["published_at"]) == "2018-09-24 22:42:40+00:00"
    assert ingest_source(source_from_preset("u", tmp_path / "undated.rss", "feed"), wh).written == 1
    assert str(_rows(wh)["u:n-1"]["published_at"]) == "2018-09-25 06:00:00+00:00"  # the feed's own date
