"""Ingestion throughput: `sentiment ingest` end to end against pyarrow's JSON reader, same file, same run.

    python -m bench.ingest [--docs 1000000] [--beam] [--unique-texts] [--json]

Writes a JSONL dump of N documents (texts sampled from the datasets directory: tweets,
headlines and long reviews; ids, ISO timestamps with offsets, no `lang`, so language
identification runs), then measures, each as a separate process:
  ingest   `sentiment ingest --input dump.jsonl` (parse, clean, language ID, dedup, write partitions)
  beam     the same with --beam (the Beam job on the local runner), with --beam only
  pyarrow  pyarrow.json.read_json on the same file (parse only, multithreaded C++)
and prints docs/s, MB/s, peak RSS (process and workers together) and the ratio ingest/pyarrow.
Also, in this process: language identification of 20,000 of the dump's texts one at a time
(py3langid) and batched (sentiment.language), with their agreement.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from bench.measure import report, run_measured
from sentiment.settings import Settings

SOURCES = [("airline_tweets/all.parquet", 0.7), ("reddit_worldnews/all.parquet", 0.2), ("imdb/test.parquet", 0.1)]


def write_dump(path: Path, data_dir: Path, docs: int, seed: int = 0, unique: bool = False) -> int:
    """The dump: texts drawn from the pools (so some repeat, as retweets and syndicated headlines
    do), or with `unique` each made distinct by its record number."""
    rng = random.Random(seed)
    pools = [
        (pq.read_table(data_dir / rel, columns=["text"]).column("text").to_pylist(), share) for rel, share in SOURCES
    ]
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with path.open("w") as handle:
        for i in range(docs):
            texts = pools[0][0] if (r := rng.random()) < 0.7 else pools[1][0] if r < 0.9 else pools[2][0]
            stamp = (start + timedelta(seconds=rng.randrange(90 * 86400))).isoformat()
            text = rng.choice(texts)
            handle.write(
                json.dumps(
                    {
                        "id": i,
                        "text": f"{text} {i}" if unique else text,
                        "published_at": stamp,
                        "author": f"user{rng.randrange(10000)}",
                    }
                )
                + "\n"
            )
    return path.stat().st_size


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--beam", action="store_true", help="also time `sentiment ingest --beam`")
    parser.add_argument(
        "--unique-texts",
        action="store_true",
        help="every text distinct (no repeats for language identification to reuse)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Settings.from_env().data_dir
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        dump = Path(tmp) / "dump.jsonl"
        size = write_dump(dump, data_dir, args.docs, unique=args.unique_texts)
        arrow_s, arrow_rss, _ = run_measured(
            [sys.executable, "-c", "import sys, pyarrow.json as j; print(j.read_json(sys.argv[1]).num_rows)", str(dump)]
        )
        ingest_s, ingest_rss, out = run_measured(
            [
                sys.executable,
                "-m",
                "sentiment_cli",
                "ingest",
                "--input",
                str(dump),
                "--source",
                "bench",
                "--home",
                str(Path(tmp) / "wh"),
                "--json",
            ]
        )
        beam = None
        if args.beam:
            beam = run_measured(
                [
                    sys.executable,
                    "-m",
                    "sentiment_cli",
                    "ingest",
                    "--input",
                    str(dump),
                    "--beam",
                    "--source",
                    "bench",
                    "--home",
                    str(Path(tmp) / "wh-beam"),
                    "--json",
                ]
            )
        texts = pq.read_table(Path(tmp) / "wh" / "raw", columns=["text"], partitioning=None).column("text")
        distinct = len(pc.unique(texts))
        languages = language_speeds(texts.to_pylist()[:20_000])
    totals = json.loads(out.strip().splitlines()[-1])
    mb = size / 2**20
    result = {
        "docs": args.docs,
        "unique_texts": args.unique_texts,
        "mb": round(mb, 1),
        "docs_per_s": round(args.docs / ingest_s, 1),
        "mb_per_s": round(mb / ingest_s, 2),
        "peak_rss_mb": round(ingest_rss, 1),
        "pyarrow_docs_per_s": round(args.docs / arrow_s, 1),
        "pyarrow_mb_per_s": round(mb / arrow_s, 2),
        "pyarrow_peak_rss_mb": round(arrow_rss, 1),
        "ratio_vs_pyarrow": round(arrow_s / ingest_s, 3),
        "written": totals["written"],
        "duplicates": totals["duplicates"],
        "quarantined": totals["quarantined"],
        "distinct_texts_written": distinct,  # language identification runs once per distinct text
        **languages,
    }
    if beam:
        beam_s, beam_rss, beam_out = beam
        beam_totals = json.loads(beam_out.strip().splitlines()[-1])
        result.update(
            {
                "beam_docs_per_s": round(args.docs / beam_s, 1),
                "beam_peak_rss_mb": round(beam_rss, 1),
                "beam_ratio_vs_pyarrow": round(arrow_s / beam_s, 3),
                "beam_same_counts": all(beam_totals[k] == totals[k] for k in ("written", "duplicates", "quarantined")),
            }
        )
    return report("ingest-unique" if args.unique_texts else "ingest", result, args.json)


def language_speeds(texts: list[str]) -> dict:
    """py3langid one text at a time against the batched identifier, on the same texts."""
    from sentiment.language import detect_language, detect_languages

    detect_languages(texts[:10])  # the model loaded, for both
    started = time.perf_counter()
    one = [detect_language(t) for t in texts]
    one_s = time.perf_counter() - started
    started = time.perf_counter()
    batched = detect_languages(texts)
    batched_s = time.perf_counter() - started
    return {
        "langid_texts": len(texts),
        "langid_one_by_one_per_s": round(len(texts) / one_s, 1),
        "langid_batched_per_s": round(len(texts) / batched_s, 1),
        "langid_agreement": round(sum(a == b for a, b in zip(one, batched, strict=True)) / len(texts), 5),
    }


if __name__ == "__main__":
    main()
