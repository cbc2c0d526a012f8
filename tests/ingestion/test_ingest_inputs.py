"""Ingestion of real-world dump shapes: compressed, truncated, oversized, globbed, preset-mapped."""

import gzip
import json

import pyarrow.parquet as pq
import pytest
import zstandard

from ingestion.config import load_sources, source_from_preset
from ingestion.ingest import ingest_source
from ingestion.sources import SourceSpec
from sentiment.warehouse import Warehouse


def _lines(n, start=0):
    return "".join(
        json.dumps({"id": i, "text": f"post number {i}", "published_at": 1614852000 + i}) + "\n"
        for i in range(start, start + n)
    ).encode()


def _stored(wh):
    return pq.read_table(wh.raw, partitioning=None).column("doc_id").to_pylist()


def test_gzip_and_zstd_dumps_in_a_directory(tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    (folder / "a.jsonl.gz").write_bytes(gzip.compress(_lines(5)))
    (folder / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(_lines(5, 5)))
    (folder / "c.csv").write_text("id,text,published_at\n10,hello there,2021-03-04T10:00:00Z\n")
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="s", path=folder), wh)
    assert (summary.read, summary.written, summary.errors) == (11, 11, [])
    assert sorted(_stored(wh)) == sorted(f"s:{i}" for i in range(11))


def test_truncated_file_is_a_clear_error_and_the_other_files_still_count(tmp_path):
    good = gzip.compress(_lines(50))
    (tmp_path / "a.jsonl.gz").write_bytes(good[: len(good) // 2])  # cut off mid-stream
    (tmp_path / "b.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(_lines(3, 100)))
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="s", path=str(tmp_path / "*.jsonl.*")), wh)
    assert len(summary.errors) == 1
    error = summary.errors[0]
    assert error["input"].endswith("a.jsonl.gz") and "truncated" in error["error"]
    assert {"s:100", "s:101", "s:102"} <= set(_stored(wh))
    assert summary.reconciles


def test_decompression_bomb_is_capped(tmp_path):
    (tmp_path / "bomb.jsonl.gz").write_bytes(gzip.compress(_lines(2) + b" " * 20_000_000 + b"\n"))
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="s", path=tmp_path / "bomb.jsonl.gz", max_bytes=3_000_000), wh)
    assert summary.written == 2 and "size cap" in summary.errors[0]["error"]
    assert summary.quarantined == 1 and summary.reconciles  # the unread rest, with its reason
    (reason,) = pq.read_table(wh.quarantine, partitioning=None).column("reason").to_pylist()
    assert reason.startswith("unreadable rest of file") and "size cap" in reason


def test_small_blocks_and_workers_give_the_same_partitions_as_one_pass(tmp_path, monkeypatch):
    path = tmp_path / "d.jsonl"
    path.write_bytes(_lines(40) + _lines(5))  # 5 repeats of earlier ids
    one, many = Warehouse(tmp_path / "one"), Warehouse(tmp_path / "many")
    a = ingest_source(SourceSpec(name="s", path=path), one)
    monkeypatch.setattr("ingestion.inputs.BLOCK_BYTES", 300)  # a few lines a block
    b = ingest_source(SourceSpec(name="s", path=path), many, workers=2)
    assert (a.written, a.duplicates) == (b.written, b.duplicates) == (40, 5)
    assert sorted(_stored(one)) == sorted(_stored(many))


def test_presets_map_reddit_and_news_shapes(tmp_path):
    reddit = tmp_path / "rs.jsonl"
    reddit.write_text(
        json.dumps({"id": "t3_x", "title": "Big news", "selftext": "", "created_utc": 1614852000, "author": "someone"})
        + "\n"
        + json.dumps({"id": "c1", "body": "I agree", "created_utc": "1614852000"})
        + "\n"
    )
    news = tmp_path / "news.jsonl"
    news.write_text(
        json.dumps(
            {
                "url": "https://n.example/1",
                "title": "Markets &amp; you",
                "content": "<p>Stocks <b>rose</b></p><script>x()</script>",
                "published": "2021-03-04T10:00:00+01:00",
            }
        )
        + "\n"
    )
    wh = Warehouse(tmp_path / "wh")
    ingest_source(source_from_preset("reddit", reddit, "reddit"), wh)
    ingest_source(source_from_preset("news", news, "news"), wh)
    rows = {r["doc_id"]: r for r in pq.read_table(wh.raw, partitioning=None).to_pylist()}
    assert rows["reddit:t3_x"]["text"] == "Big news" and rows["reddit:t3_x"]["author"] == "someone"
    assert rows["reddit:t1_c1"]["text"] == "I agree"  # ids are fullnames: t1_ comments, t3_ submissions
    article = rows["news:https://n.example/1"]
    assert article["text"] == "Markets & you. Stocks rose" and article["title"] == "Markets & you"
    assert article["url"] == "https://n.example/1" and article["published_at"].hour == 9


def test_sources_file(tmp_path):
    (tmp_path / "tweets.jsonl").write_text(
        json.dumps({"id": "1", "text": "hi", "created_at": "2021-03-04T10:00:00Z", "lang": "de"}) + "\n"
    )
    config = tmp_path / "sources.toml"
    config.write_text('[sources.x]\npreset = "twitter"\npath = "tweets.jsonl"\ndefault_lang = "en"\n')
    (spec,) = load_sources(config)
    assert spec.name == "x" and spec.shape == "twitter" and spec.default_lang == "en"
    summary = ingest_source(spec, Warehouse(tmp_path / "wh"))
    assert summary.written == 1
    assert pq.read_table(tmp_path / "wh" / "raw", partitioning=None).column("lang").to_pylist() == ["de"]
    config.write_text('[sources.x]\npreset = "nope"\npath = "t.jsonl"\n')
    with pytest.raises(ValueError, match="unknown preset"):
        load_sources(config)
    config.write_text('[sources.x]\npath = "t.jsonl"\ntext_feild = "body"\n')
    with pytest.raises(ValueError, match="unknown setting"):
        load_sources(config)


def test_ingest_cli_with_an_input_and_a_preset(tmp_path):
    from typer.testing import CliRunner

    from sentiment_cli import app

    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(_lines(4) + b"{broken\n"))
    result = CliRunner().invoke(
        app,
        [
            "ingest",
            "--home",
            str(tmp_path / "wh"),
            "--input",
            str(path),
            "--source",
            "forum",
            "--preset",
            "generic",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout.strip().splitlines()[-1])
    assert (totals["read"], totals["written"], totals["duplicates"], totals["quarantined"]) == (5, 4, 0, 1)
    missing = CliRunner().invoke(app, ["ingest", "--home", str(tmp_path / "wh"), "--input", str(path)])
    assert missing.exit_code == 2 and "--source" in missing.output


def test_language_is_detected_only_when_the_record_has_none(tmp_path):
    path = tmp_path / "x.jsonl"
    rows = [
        {"id": 1, "text": "Das ist ein sehr guter Film, wirklich wunderbar.", "published_at": 1614852000},
        {"id": 2, "text": "This is a really good film, truly wonderful.", "published_at": 1614852000},
        {"id": 3, "text": "Das ist ein sehr guter Film, und noch einmal.", "published_at": 1614852000, "lang": "xx"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    wh = Warehouse(tmp_path / "wh")
    ingest_source(source_from_preset("s", path, "generic"), wh)
    langs = dict(zip(_stored(wh), pq.read_table(wh.raw, partitioning=None).column("lang").to_pylist(), strict=True))
    assert langs == {"s:1": "de", "s:2": "en", "s:3": "xx"}


def test_the_same_text_twice_in_a_source_day_is_one_document(tmp_path):
    rows = [
        {"id": 1, "text": "Breaking:  same   headline", "published_at": "2021-03-04T08:00:00Z"},
        {"id": 2, "text": "Breaking: same headline", "published_at": "2021-03-04T20:00:00Z"},  # same day
        {"id": 3, "text": "Breaking: same headline", "published_at": "2021-03-05T08:00:00Z"},  # next day
    ]
    path = tmp_path / "x.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="s", path=path), wh)
    assert (summary.written, summary.duplicates) == (2, 1)
    again = ingest_source(SourceSpec(name="s", path=path), wh)
    assert (again.written, again.duplicates) == (0, 3)
    assert sorted(_stored(wh)) == ["s:1", "s:3"]


def test_a_date_window_ingests_only_its_days_and_still_reconciles(tmp_path):
    from datetime import date

    path = tmp_path / "x.jsonl"
    path.write_bytes(_lines(3))  # 1614852000 + i: 2021-03-04
    path.write_text(
        path.read_text() + json.dumps({"id": 9, "text": "later", "published_at": "2021-03-09T00:00:00Z"}) + "\n"
    )
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(SourceSpec(name="s", path=path), wh, start=date(2021, 3, 5), end=date(2021, 3, 31))
    assert (summary.read, summary.written, summary.out_of_range) == (4, 1, 3) and summary.reconciles


def test_truncated_zstd_is_reported_too(tmp_path):
    data = zstandard.ZstdCompressor().compress(_lines(200))
    (tmp_path / "a.jsonl.zst").write_bytes(data[: len(data) // 2])
    summary = ingest_source(SourceSpec(name="s", path=tmp_path / "a.jsonl.zst"), Warehouse(tmp_path / "wh"))
    assert len(summary.errors) == 1 and "a.jsonl.zst" in summary.errors[0]["error"] and summary.reconciles


def test_fsspec_urls_are_read_through_fsspec(tmp_path):
    import fsspec

    with fsspec.open("memory://dumps/a.jsonl.gz", "wb") as handle:
        handle.write(gzip.compress(_lines(3)))
    summary = ingest_source(SourceSpec(name="s", path="memory://dumps/*.jsonl.gz"), Warehouse(tmp_path / "wh"))
    assert summary.written == 3 and summary.errors == []


def test_ingest_flow_takes_the_cli_choices(prefect_harness, tmp_path):
    from flows.ingest import ingest_flow

    path = tmp_path / "x.jsonl"
    path.write_bytes(_lines(4))
    (summary,) = ingest_flow(tmp_path / "wh", input=str(path), sources=["forum"])
    assert summary["written"] == 4 and summary["source"] == "forum"


def test_the_ingest_flow_runs_every_source_and_fails_naming_the_one_that_failed(prefect_harness, tmp_path):
    from flows.ingest import ingest_flow

    (tmp_path / "x.jsonl").write_bytes(_lines(4))
    config = tmp_path / "sources.toml"
    config.write_text('[sources.gone]\npath = "missing/*.jsonl"\n[sources.fine]\npath = "x.jsonl"\n')
    with pytest.raises(RuntimeError, match=r"ingest failed for source\(s\) \['gone'\]"):
        ingest_flow(tmp_path / "wh", config=config)
    assert len(_stored(Warehouse(tmp_path / "wh"))) == 4  # the source after it was still ingested


def test_ingest_flow_runs_the_beam_job_when_asked(prefect_harness, tmp_path):
    from flows.ingest import ingest_flow

    path = tmp_path / "x.jsonl"
    path.write_bytes(_lines(4) + b"not json\n")
    (local,) = ingest_flow(tmp_path / "local", input=str(path), sources=["forum"])
    (beamed,) = ingest_flow(tmp_path / "beam", input=str(path), sources=["forum"], beam=True)
    assert beamed == local and (beamed["written"], beamed["quarantined"]) == (4, 1)
    assert sorted(_stored(Warehouse(tmp_path / "beam"))) == sorted(_stored(Warehouse(tmp_path / "local")))


def test_a_killed_runs_staging_folder_is_swept_and_a_live_ones_kept(tmp_path):
    import os
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    staging = tmp_path / "wh" / "state" / "staging"
    host = socket.gethostname()
    stale, live = staging / f"ingest-{host}-{dead.pid}-x1", staging / f"ingest-{host}-{os.getpid()}-x2"
    other_host = staging / f"ingest-elsewhere-{dead.pid}-x3"
    for folder in (stale, live, other_host):
        folder.mkdir(parents=True)
        (folder / "piece-000001.arrow").write_bytes(b"left behind")
    path = tmp_path / "d.jsonl"
    path.write_bytes(_lines(3))
    summary = ingest_source(SourceSpec(name="s", path=path), Warehouse(tmp_path / "wh"))
    assert summary.written == 3
    assert not stale.exists() and live.exists() and other_host.exists()
    assert sorted(p.name for p in staging.iterdir()) == sorted([live.name, other_host.name])  # its own: removed
