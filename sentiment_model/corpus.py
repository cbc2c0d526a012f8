"""Unlabelled text for pretraining: every dataset's training text, and the unlabelled corpora, never a test split."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq


def pretraining_files(data_dir: Path) -> list[Path]:
    """Per dataset directory: train.parquet when there is one, else every file but test.parquet.

    So no evaluation split is ever read: sst2 contributes train only (its validation split is
    what it is judged on), airline_tweets its train split (not all.parquet, which holds the test
    tweets), reddit_worldnews all.parquet (unlabelled).
    """
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"datasets directory not found: {data_dir} (set SENTIMENT_DATA_DIR)")
    files: list[Path] = []
    for dataset in sorted(p for p in data_dir.iterdir() if p.is_dir()):
        if (dataset / "train.parquet").is_file():
            files.append(dataset / "train.parquet")
        else:
            files.extend(sorted(f for f in dataset.glob("*.parquet") if f.name != "test.parquet"))
    return files


def texts(files: list[Path]) -> Iterator[str]:
    for path in files:
        table = pq.read_table(path, columns=["text"])
        yield from (t for t in table.column("text").to_pylist() if t)
