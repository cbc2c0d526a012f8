"""The batch path (pyarrow's JSON reader and pyarrow.compute) stores exactly what the per-record
path stores, quarantines with the same reasons, and worker processes change nothing."""

import json
import random
import unicodedata
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion import columnar
from ingestion.columnar import WHITESPACE, clean_columns
from ingestion.config import source_from_preset
from ingestion.ids import content_hash, content_hashes, make_doc_id, make_doc_ids
from ingestion.ingest import ingest_source
from ingestion.records import clean_text
from sentiment.language import detect_language, detect_languages
from sentiment.warehouse import Warehouse

WHEN = "2025-03-02T08:00:00Z"


def _records(n: int, seed: int = 0, numbers: bool = False) -> list[dict]:
    """Varied good records: ids or none, zoned, naive and epoch times (`numbers`: ids and times as
    JSON numbers), untidy whitespace of every kind, decomposed accents, titles, languages, repeats."""
    rng = random.Random(seed)
    texts = [
        "Great  service\ttoday",
        " Flight delayed\nagain ",
        "Cafe\u0301 au lait\u00a0rocks",
        "ÉNORME RETARD",
        "Das Essen war kalt",
        "ok",
        "x\u2003y\u3000z",
        "Breaking: markets fall",
        "vuelo cancelado otra vez",
    ]
    times = (
        [1740902400, 1740988800123, 1741000000]
        if numbers
        else [
            WHEN,
            "2025-03-02T09:30:00+02:00",
            "2025-03-03 10:00:00",
            "2025-03-03T23:59:59-05:00",
            "2025-03-04T08:00:00.250Z",
            "1740902400",
        ]
    )
    out = []
    for i in range(n):
        record = {"text": rng.choice(texts) + (f" #{i % 50}" if i % 3 else ""), "published_at": rng.choice(times)}
        if i % 5:
            record["id"] = i if numbers else f" id-{i} "
        if i % 4 == 0:
            record["title"] = rng.choice(["  Headline ", "News", ""])
        if i % 6 == 0:
            record["lang"] = "en"
        if i % 7 == 0:
            record["author"] = f"user{i % 3}"
        out.append(record)
    return out


def _write_jsonl(path, records, bad: list[bytes] = ()) -> None:
    lines = [json.dumps(r).encode() for r in records]
    for i, line in enumerate(bad):
        lines.insert(3 + 7 * i, line)
    path.write_bytes(b"\n".join(lines) + b"\n")


def _stored(wh: Warehouse) -> list[dict]:
    return sorted(pq.read_table(wh.raw, partitioning=None).to_pylist(), key=lambda r: r["doc_id"])


def _quarantined(wh: Warehouse) -> list[tuple]:
    if not wh.quarantine.exists():
        return []
    rows = pq.read_table(wh.quarantine, partitioning=None).to_pylist()
    return sorted((r["record"], r["reason"], r["raw"]) for r in rows)


def _both_paths(tmp_path, monkeypatch, name: str, preset: str = "generic", **settings):
    """The source ingested by the batch path, then by the per-record path alone; the batch path
    must have cleaned most rows itself."""
    path = tmp_path / name
    spec = source_from_preset("s", path, preset, **settings)
    fast = Warehouse(tmp_path / "fast")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    batched = []

    def counting(table, spec, now):
        columns = clean_columns(table, spec, now)
        batched.append(len(columns.accepted))
        return columns

    monkeypatch.setattr("ingestion.clean.clean_columns", counting)
    a = ingest_source(spec, fast, now=now)
    assert sum(batched) >= a.written / 2, "the batch path was not used"
    monkeypatch.setattr("ingestion.clean.eligible", lambda table, spec: False)
    slow = Warehouse(tmp_path / "slow")
    b = ingest_source(spec, slow, now=now)
    return (a, fast), (b, slow)


BAD = [
    b'{"id": "m1", "text": "malformed", "published_at": ',
    b'{"id": "u1", "text": "bad \xff\xfe bytes", "published_at": "2025-03-02T08:00:00Z"}',
    b"   ",
    b"[1, 2]",
    b'{"id": "t1", "published_at": "2025-03-02T08:00:00Z"}',
    b'{"id": "t2", "text": 42, "published_at": "2025-03-02T08:00:00Z"}',
    b'{"id": "t3", "text": " \\u2003 ", "published_at": "2025-03-02T08:00:00Z"}',
    b'{"id": "d1", "text": "when?", "published_at": "next tuesday"}',
    b'{"id": "d2", "text": "never"}',
    b'{"id": "d3", "text": "too late", "published_at": 99999999999999999}',
    b'{"id": "s\\ud83d1", "text": "bad id", "published_at": "2025-03-02T08:00:00Z"}',
    b'{"id": "s2", "text": "repaired \\udc00", "published_at": "2025-03-02T08:00:00Z"}',
    b'{"id": 7, "text": "duplicate id of a good record", "published_at": "2025-03-02T08:00:00Z"}',
]


@pytest.mark.parametrize("numbers", [False, True])
def test_the_batch_path_stores_what_the_per_record_path_stores(tmp_path, monkeypatch, numbers):
    _write_jsonl(tmp_path / "d.jsonl", _records(2000, numbers=numbers), BAD)
    (a, fast), (b, slow) = _both_paths(tmp_path, monkeypatch, "d.jsonl", author_field="author")
    assert a.as_dict() == b.as_dict() and a.reconciles
    assert a.quarantined == len(BAD) - 2 and a.written > 100 and a.duplicates > 0
    assert _stored(fast) == _stored(slow)
    assert _quarantined(fast) == _quarantined(slow)
    langs = {row["lang"] for row in _stored(fast)}
    assert {"en", "de"} <= langs  # identified where the record carries none


def test_titles_fallbacks_and_combined_text_agree(tmp_path, monkeypatch):
    records = [
        {
            "id": i,
            "body": [None, "", "  ", "the body"][i % 4],
            "selftext": ["self text", None][i % 2],
            "title": ["A title", None, "  ", "Why?", "Wow! "][i % 5],
            "created_utc": 1740902400 + i,
        }
        for i in range(60)
    ]
    _write_jsonl(tmp_path / "r.jsonl", records)
    (a, fast), (b, slow) = _both_paths(
        tmp_path,
        monkeypatch,
        "r.jsonl",
        text_field="body",
        text_fallbacks=["selftext"],
        title_field="title",
        combine_title=True,
        time_field="created_utc",
    )
    texts = {row["text"] for row in _stored(fast)}
    assert "Why? the body" in texts and "Wow! the body" in texts and "A title. the body" in texts
    assert a.as_dict() == b.as_dict()
    assert _stored(fast) == _stored(slow) and _quarantined(fast) == _quarantined(slow)


def test_a_parquet_input_agrees(tmp_path, monkeypatch):
    rows = _records(300, seed=1)
    table = pa.table(
        {
            "id": [str(r.get("id", "")) for r in rows],
            "text": [r["text"] for r in rows],
            "published_at": pa.array([WHEN if isinstance(r["published_at"], int) else r["published_at"] for r in rows]),
        }
    )
    pq.write_table(table, tmp_path / "d.parquet")
    (a, fast), (b, slow) = _both_paths(tmp_path, monkeypatch, "d.parquet")
    assert a.as_dict() == b.as_dict()
    assert _stored(fast) == _stored(slow) and _quarantined(fast) == _quarantined(slow)


def test_workers_write_the_same_bytes(tmp_path):
    path = tmp_path / "d.jsonl"
    _write_jsonl(path, _records(3000), BAD)
    spec = source_from_preset("s", path, "generic")
    one, two = Warehouse(tmp_path / "one"), Warehouse(tmp_path / "two")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    a = ingest_source(spec, one, now=now, workers=1)
    b = ingest_source(spec, two, now=now, workers=2)
    assert a.as_dict() == b.as_dict()
    files = sorted(p.relative_to(one.raw) for p in one.raw.rglob("*.parquet"))
    assert files == sorted(p.relative_to(two.raw) for p in two.raw.rglob("*.parquet"))
    assert all((one.raw / f).read_bytes() == (two.raw / f).read_bytes() for f in files)
    assert _quarantined(one) == _quarantined(two)


def test_whitespace_is_pythons():
    assert WHITESPACE == "".join(c for c in map(chr, range(0x110000)) if c.isspace())


def test_columnar_cleaning_and_hashing_match_the_per_record_functions():
    values = [
        "  a\u00a0 b\t\tc ",
        "Cafe\u0301",
        "Cafe\u0301 au lait\u00a0rocks",
        "x\u2028y",
        "plain text",
        "\u3000lead",
        "trail\n",
    ]
    cleaned = columnar.clean_text(pa.array(values)).to_pylist()
    assert cleaned == [clean_text(v) for v in values]
    assert cleaned[1] == unicodedata.normalize("NFC", "Café")
    assert content_hashes(pa.array(cleaned)).to_pylist() == [content_hash(t) for t in cleaned]
    sliced = pa.array(["skip"] + cleaned).slice(1)
    assert content_hashes(sliced).to_pylist() == [content_hash(t) for t in cleaned]


def test_ids_of_a_column_follow_the_one_rule_for_a_record():
    natives = ["1234", None, "x y", None]  # as the batch path hands them: stripped strings, null when blank
    hashes = ["aaaa", "bbbb", "cccc", "dddd"]
    batch = make_doc_ids("tw", pa.array(natives, pa.string()), pa.array(hashes)).to_pylist()
    assert batch == [make_doc_id("tw", n, h) for n, h in zip([" 1234 ", "  ", "x y", None], hashes, strict=True)]
    assert batch == ["tw:1234", "tw:hbbbb", "tw:x y", "tw:hdddd"]
    assert make_doc_ids("tw", None, pa.array(hashes)).to_pylist() == [f"tw:h{h}" for h in hashes]


def test_batched_language_identification_gives_py3langid_answers():
    texts = [
        "This movie is fantastic and I love it!",
        "Das Essen war kalt und das Personal unfreundlich.",
        "Le vol a été annulé sans explication.",
        "ÉNORME RETARD À L'AÉROPORT",
        "ok",
        "",
        "12345 !!!",
        "東京は今日も雨です",
        "Москва сегодня солнечная",
        "¿Dónde está mi equipaje?",
        "x" * 500,
    ]
    assert detect_languages(texts) == [detect_language(t) for t in texts]
    assert detect_languages([]) == []
