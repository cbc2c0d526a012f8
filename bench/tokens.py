"""The tokenizer's fast path against its reference: token for token, and chars cut, on every text of every
Parquet file under the datasets directory, at each limit the models cut texts to; and the speed of both.

    python -m bench.tokens [--data-dir DIR] [--limit none 400 128 64] [--per-file N] [--repeat 1] [--json]

Limits: none, 400 (the general model reads 400, the "long" recipe trains on 400, word vectors take 400),
128 (the other recipes), 64 (the pretrained language model). `tokenize.tokenize_prefix` (PCRE2, when the
`pcre2` package imports) and `tokenize.reference_prefix` (Python's re) run over the same batches of texts,
one after the other, each batch timed for both (the best of --repeat runs). Exits 1 on a mismatch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

from bench.measure import report
from sentiment.settings import Settings
from sentiment_model import tokenize

LIMITS = [None, 400, 128, 64]
BATCH = 1000  # texts timed together
SHOWN = 5  # mismatches printed per limit


def texts_of(path: Path, per_file: int | None) -> list[str] | None:
    """The file's `text` column (None when it has none), its first `per_file` texts with --per-file."""
    if "text" not in pq.read_schema(path).names:
        return None
    texts = [t for t in pq.read_table(path, columns=["text"]).column("text").to_pylist() if isinstance(t, str)]
    return texts[:per_file] if per_file else texts


def timed(run, texts: list[str], limit: int | None, repeat: int) -> tuple[list, float]:
    """The results of the first run and the best time of `repeat` runs."""
    best, results = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        out = [run(text, limit) for text in texts]
        best = min(best, time.perf_counter() - started)
        results = results or out
    return results, best


def check(files: dict[str, list[str]], limit: int | None, repeat: int) -> dict:
    checked, mismatches, shown = 0, 0, []
    seconds = {"reference": 0.0, "fast": 0.0}
    for name, texts in files.items():
        for start in range(0, len(texts), BATCH):
            batch = texts[start : start + BATCH]
            expected, seconds_reference = timed(tokenize.reference_prefix, batch, limit, repeat)
            got, seconds_fast = timed(tokenize.tokenize_prefix, batch, limit, repeat)
            seconds["reference"] += seconds_reference
            seconds["fast"] += seconds_fast
            checked += len(batch)
            for i, (want, have) in enumerate(zip(expected, got, strict=True)):
                if want != have:
                    mismatches += 1
                    if len(shown) < SHOWN:
                        shown.append(
                            {"file": name, "row": start + i, "text": batch[i], "reference": want, "fast": have}
                        )
    for case in shown:
        print(f"MISMATCH limit={limit} {case['file']} row {case['row']}: {case['text'][:300]!r}", file=sys.stderr)
        print(f"  reference: {case['reference']}", file=sys.stderr)
        print(f"  fast:      {case['fast']}", file=sys.stderr)
    return {
        "texts": checked,
        "mismatches": mismatches,
        "reference_docs_per_s": round(checked / seconds["reference"], 1),
        "fast_docs_per_s": round(checked / seconds["fast"], 1),
        "speedup": round(seconds["reference"] / seconds["fast"], 2),
    }


def _limit(value: str) -> int | None:
    return None if value.lower() == "none" else int(value)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--limit", type=_limit, nargs="+", default=LIMITS, help="token limits; `none`: no limit")
    parser.add_argument("--per-file", type=int, default=None, help="only the first N texts of each file")
    parser.add_argument("--repeat", type=int, default=1, help="time each batch this many times, keep the best")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or Settings.from_env().data_dir
    files, skipped = {}, []
    for path in sorted(data_dir.rglob("*.parquet")):
        texts = texts_of(path, args.per_file)
        if texts is None:
            skipped.append(str(path.relative_to(data_dir)))
        else:
            files[str(path.relative_to(data_dir))] = texts
    if not files:
        raise SystemExit(f"no Parquet file with a `text` column under {data_dir}")
    tokenize.tokenize_prefix("warm-up")  # compiles the fast path's pattern
    pcre2 = sys.modules.get("pcre2")
    result: dict = {
        "data_dir": str(data_dir),
        "files": len(files),
        "skipped_files": skipped,
        "fast_engine": f"pcre2 {pcre2.__version__} (PCRE2 {pcre2.__libpcre2_version__})" if pcre2 else "none",
        "repeat": args.repeat,
        "limits": {str(limit): check(files, limit, args.repeat) for limit in args.limit},
    }
    result["mismatches"] = sum(r["mismatches"] for r in result["limits"].values())
    report("tokens", result, args.json)
    if result["mismatches"]:
        raise SystemExit(1)
    return result


if __name__ == "__main__":
    main()
