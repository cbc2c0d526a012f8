"""Unlabelled text for pretraining: every dataset's training text, and the unlabelled corpora, never a test split."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from sentiment.files import content_key
from sentiment_model.tokenize import VERSION as TOKENIZER

log = logging.getLogger(__name__)


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


def cached_vectors(data_dir: Path, cache_dir: Path, dim: int) -> Path | None:
    """Word vectors for `data_dir`'s pretraining text, built once and cached; None without such text.

    The cache key covers the files (names, sizes, modification times) and the vector size,
    so new or changed data builds new vectors.
    """
    from sentiment_model.embeddings import EmbeddingConfig, build

    try:
        files = pretraining_files(data_dir)
    except FileNotFoundError:
        return None
    if not files:
        return None
    config = EmbeddingConfig(dim=dim)
    key = content_key(f"{config!r} tokenizer {TOKENIZER}", data_dir, files)
    path = Path(cache_dir) / f"ppmi-{dim}-{key}.npz"
    if not path.is_file():
        log.info("building word vectors from %d files under %s (once; cached at %s)", len(files), data_dir, path)
        try:
            build(texts(files), config).save(path)
        except ValueError as err:  # too little text for vectors of this size
            log.warning("no pretrained word vectors: %s; training starts from random vectors", err)
            return None
    return path


def resolve_embeddings(value: str | Path | None, data_dir: Path, cache_dir: Path, dim: int) -> Path | None:
    """`--embeddings`: "auto" (the cached vectors of the datasets directory, when there is one), "none", or a file."""
    if value is None or str(value) == "none":
        return None
    if str(value) == "auto":
        return cached_vectors(Path(data_dir), Path(cache_dir), dim)
    return Path(value)
