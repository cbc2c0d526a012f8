"""One bad record never stops a run: lone surrogates in every stored field, text encodings with
counted replacements, compression read from the bytes, JSON arrays, and every bad-input case
of the README in one file between good records."""

import bz2
import gzip
import json
import lzma

import pyarrow.parquet as pq
import pytest
import zstandard

from ingestion.config import source_from_preset
from ingestion.ingest import ingest_source
from ingestion.sources import SourceSpec
from sentiment.warehouse import Warehouse

WHEN = "2025-03-02T08:00:00Z"


def _documents(wh) -> dict[str, dict]:
    rows = pq.read_table(wh.raw, partitioning=None).to_pylist()
    return {row["doc_id"]: row for row in rows}


def _quarantine(wh) -> list[dict]:
    return pq.read_table(wh.quarantine, partitioning=None).to_pylist() if wh.quarantine.exists() else []


def _ingest(tmp_path, name: str, content: bytes, **settings):
    path = tmp_path / name
    path.write_bytes(content)
    wh = Warehouse(tmp_path / "wh")
    summary = ingest_source(source_from_preset("s", path, "generic", **settings), wh)
    assert summary.reconciles
    return summary, wh


def _good(i: int) -> str:
    return json.dumps({"id": f"g{i}", "text": f"good record {i}", "published_at": WHEN})


# Raw JSON lines (escapes as they appear in the file): "\ud83d" alone is a lone surrogate.
LONE = "\\ud83d"


@pytest.mark.parametrize("field", ["text", "title", "author", "url"])
def test_a_lone_surrogate_in_a_text_field_is_repaired_and_counted(tmp_path, field):
    fields = {"text": "half an emoji", field: f"x {LONE} y"}  # the text field itself, or another beside it
    pairs = ", ".join(f'"{k}": "{v}"' for k, v in fields.items())
    line = '{"id": "17", ' + pairs + ', "published_at": "' + WHEN + '"}'
    content = "\n".join([_good(1), line, _good(2)]).encode()
    summary, wh = _ingest(tmp_path, "dump.jsonl", content)
    assert (summary.read, summary.written, summary.quarantined, summary.chars_replaced) == (3, 3, 0, 1)
    stored = _documents(wh)["s:17"]
    assert stored[field] == "x \ufffd y"


def test_a_valid_escaped_pair_is_one_character_and_not_counted(tmp_path):
    line = f'{{"id": "1", "text": "a smile \\ud83d\\ude00", "published_at": "{WHEN}"}}'
    summary, wh = _ingest(tmp_path, "dump.jsonl", line.encode())
    assert summary.chars_replaced == 0
    assert _documents(wh)["s:1"]["text"] == "a smile \U0001f600"


@pytest.mark.parametrize("field,reason", [("id", "id field 'id'"), ("lang", "language field 'lang'")])
def test_a_lone_surrogate_in_an_identifying_field_quarantines_the_record(tmp_path, field, reason):
    line = f'{{"id": "1", "text": "fine", "lang": "en", "published_at": "{WHEN}"}}'
    line = line.replace(f'"{field}": "', f'"{field}": "{LONE}')
    summary, wh = _ingest(tmp_path, "dump.jsonl", "\n".join([_good(1), line, _good(2)]).encode())
    assert (summary.written, summary.quarantined) == (2, 1)
    [row] = _quarantine(wh)
    assert row["record"] == 1 and row["reason"].startswith(reason) and "lone UTF-16 surrogate" in row["reason"]
    assert "\\ud83d" in row["raw"]  # the raw record is kept, its surrogate escaped


def test_a_quarantined_record_with_a_lone_surrogate_keeps_its_raw_text(tmp_path):
    line = f'{{"id": "1", "text": "fine", "published_at": "2025-{LONE}-03"}}'
    summary, wh = _ingest(tmp_path, "dump.jsonl", "\n".join([line, _good(2)]).encode())
    assert (summary.written, summary.quarantined) == (1, 1)
    [row] = _quarantine(wh)
    assert row["reason"].startswith("unparseable timestamp") and "\\ud83d" in row["raw"]


CP1252 = "id,text,published_at\n1,Café service was great,2025-03-02T08:00:00Z\n2,plain,2025-03-02T09:00:00Z\n"


@pytest.mark.parametrize(
    "encoding,text,replaced",
    [
        ("utf-8", "Caf\ufffd service was great", 1),  # the default: replaced, and counted
        ("auto", "Café service was great", 0),
        ("cp1252", "Café service was great", 0),
    ],
)
def test_a_windows_1252_csv(tmp_path, encoding, text, replaced):
    summary, wh = _ingest(tmp_path, "export.csv", CP1252.encode("cp1252"), encoding=encoding)
    assert (summary.written, summary.chars_replaced) == (2, replaced)
    assert _documents(wh)["s:1"]["text"] == text


def test_an_unknown_encoding_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown encoding 'latin-9000'"):
        SourceSpec(name="s", path=tmp_path, encoding="latin-9000")


@pytest.mark.parametrize(
    "name,compress",
    [
        ("gz.jsonl", gzip.compress),  # named as plain JSONL
        ("zst.jsonl", lambda b: zstandard.ZstdCompressor().compress(b)),
        ("b.jsonl.bz2", bz2.compress),
        ("x.jsonl.xz", lzma.compress),
        ("plain.jsonl.gz", lambda b: b),  # named gzip, but plain text
    ],
)
def test_compression_is_read_from_the_bytes(tmp_path, name, compress):
    content = "\n".join(_good(i) for i in range(3)).encode()
    summary, wh = _ingest(tmp_path, name, compress(content))
    assert (summary.read, summary.written, summary.quarantined) == (3, 3, 0)


def test_a_json_array_of_records(tmp_path):
    content = f"\ufeff [\n {_good(1)},\n {_good(2)} , 5,\n {_good(3)}\n]\n"
    summary, wh = _ingest(tmp_path, "export.json", content.encode())
    assert (summary.read, summary.written, summary.quarantined) == (4, 3, 1)
    assert sorted(_documents(wh)) == ["s:g1", "s:g2", "s:g3"]
    [row] = _quarantine(wh)
    assert (row["record"], row["reason"], row["raw"]) == (2, "JSON array element is not an object", "5")


def test_a_json_array_larger_than_the_read_chunk_streams(tmp_path):
    records = [{"id": i, "text": f"record {i} " + "x" * 300, "published_at": WHEN} for i in range(6000)]
    summary, wh = _ingest(tmp_path, "big.json", json.dumps(records).encode())  # about 2 MB: several chunks
    assert (summary.read, summary.written, summary.quarantined) == (6000, 6000, 0)


@pytest.mark.parametrize(
    "content,written,reason",
    [
        ("[]", 0, None),
        (f"[{_good(1)}, {{broken", 1, "malformed JSON in array element 1"),
        (f"[{_good(1)} {_good(2)}]", 1, "malformed JSON array: expected , or ]"),
        (f"[{_good(1)}", 1, "JSON array ends before its closing ]"),
        (f"[{_good(1)}] trailing", 1, "content after the JSON array"),
    ],
)
def test_a_broken_json_array_keeps_its_good_records_and_quarantines_the_rest(tmp_path, content, written, reason):
    summary, wh = _ingest(tmp_path, "export.json", content.encode())
    assert summary.written == written
    reasons = [row["reason"] for row in _quarantine(wh)]
    assert len(reasons) == (0 if reason is None else 1)
    assert reason is None or reasons[0].startswith(reason)


def test_every_bad_input_case_in_one_file_between_good_records(tmp_path):
    bad = [
        b'{"id": "m1", "text": "malformed", "published_at": ',  # malformed JSON
        b'{"id": "u1", "text": "bad \xff\xfe bytes", "published_at": "2025-03-02T08:00:00Z"}',  # invalid UTF-8
        b"   ",  # blank line
        b"[1, 2]",  # not an object
        b'{"id": "t1", "published_at": "2025-03-02T08:00:00Z"}',  # missing text
        b'{"id": "t2", "text": 42, "published_at": "2025-03-02T08:00:00Z"}',  # non-text text
        b'{"id": "t3", "text": "   ", "published_at": "2025-03-02T08:00:00Z"}',  # only whitespace
        b'{"id": "d1", "text": "when?", "published_at": "next tuesday"}',  # unparseable timestamp
        b'{"id": "d2", "text": "never"}',  # missing timestamp
        b'{"id": "s\\ud83d1", "text": "bad id", "published_at": "2025-03-02T08:00:00Z"}',  # lone surrogate in id
        b'{"id": "s2", "text": "repaired \\udc00", "published_at": "2025-03-02T08:00:00Z"}',  # repaired, stored
        (f'{{"id": "g1", "text": "good record 1 again", "published_at": "{WHEN}"}}').encode(),  # duplicate id
    ]
    lines = []
    for i, line in enumerate(bad):
        lines += [_good(i).encode(), line]
    lines.append(_good(len(bad)).encode())
    content = b"\n".join(lines) + b"\n"
    summary, wh = _ingest(tmp_path, "mixed.jsonl", content)
    goods = len(bad) + 1
    assert summary.read == len(lines)
    assert summary.written == goods + 1  # every good record, plus the repaired one
    assert summary.duplicates == 1
    assert summary.quarantined == len(bad) - 2
    assert summary.chars_replaced == 1
    stored = _documents(wh)
    assert all(f"s:g{i}" in stored for i in range(goods)) and stored["s:s2"]["text"] == "repaired \ufffd"
    reasons = sorted(row["reason"].split(":")[0] for row in _quarantine(wh))
    assert reasons == sorted(
        [
            "malformed JSON",
            "invalid UTF-8",
            "blank line",
            "JSON line is not an object",
            "missing text",
            "text is not a string but int",
            "empty text (only whitespace)",
            "unparseable timestamp",
            "missing timestamp",
            "id field 'id' holds an invalid character (a lone UTF-16 surrogate)",
        ]
    )
    files = sorted(p.read_bytes() for p in wh.raw.rglob("*.parquet"))
    again = ingest_source(source_from_preset("s", tmp_path / "mixed.jsonl", "generic"), wh)
    assert (again.written, again.duplicates, again.quarantined) == (0, goods + 2, len(bad) - 2)
    assert sorted(p.read_bytes() for p in wh.raw.rglob("*.parquet")) == files  # a re-run changes nothing
