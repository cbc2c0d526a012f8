"""Labelled text from Parquet, encoded and cut into length-bucketed, padded batches."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import torch
from torch.nn.utils.rnn import pad_sequence

from sentiment_model.tokenize import tokenize
from sentiment_model.vocab import PAD_ID, Vocab


@dataclass
class LabelledText:
    texts: list[str]
    labels: list[str]


def read_labelled(path: Path, max_rows: int | None = None) -> LabelledText:
    """`text` and `label` columns of a Parquet file; a clear error when they are missing."""
    if not path.is_file():
        raise FileNotFoundError(f"labelled data not found: {path} (expected a Parquet file with text, label)")
    table = pq.read_table(path)
    missing = {"text", "label"} - set(table.column_names)
    if missing:
        raise ValueError(f"{path} lacks column(s) {sorted(missing)}; it has {table.column_names}")
    texts = [t or "" for t in table.column("text").to_pylist()]
    labels = [str(label) for label in table.column("label").to_pylist()]
    if max_rows is not None:
        texts, labels = texts[:max_rows], labels[:max_rows]
    return LabelledText(texts, labels)


def encode(texts: Sequence[str], vocab: Vocab, max_tokens: int) -> list[list[int]]:
    """Token ids per text, cut to `max_tokens`; an empty text becomes one unknown token."""
    return [vocab.encode(tokenize(text, max_tokens)[:max_tokens]) or [1] for text in texts]


def pad_batch(sequences: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded ids [B, T] and lengths [B]."""
    tensors = [torch.as_tensor(s).long() for s in sequences]
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    return pad_sequence(tensors, batch_first=True, padding_value=PAD_ID), lengths


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, shuffle: bool, seed: int = 0, pool: int = 50
) -> Iterator[list[int]]:
    """Index batches of similar length, so little compute goes to padding.

    Indices are shuffled, cut into pools of `pool` batches, sorted by length inside
    each pool, cut into batches, and the batches shuffled again.
    """
    order = list(range(len(lengths)))
    rng = random.Random(seed)
    if shuffle:
        rng.shuffle(order)
    batches: list[list[int]] = []
    step = batch_size * pool
    for start in range(0, len(order), step):
        chunk = sorted(order[start : start + step], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    if shuffle:
        rng.shuffle(batches)
    yield from batches
