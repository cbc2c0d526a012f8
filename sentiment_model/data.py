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
    sources: list[str] | None = None  # each row's source (dataset) when the data mixes several

    def take(self, rows: Sequence[int]) -> LabelledText:
        """The rows at these indices, in this order."""
        sources = [self.sources[i] for i in rows] if self.sources is not None else None
        return LabelledText([self.texts[i] for i in rows], [self.labels[i] for i in rows], sources)


def read_labelled(path: Path) -> LabelledText:
    """`text` and `label` columns of a Parquet file; a clear error when they are missing."""
    if not path.is_file():
        raise FileNotFoundError(f"labelled data not found: {path} (expected a Parquet file with text, label)")
    table = pq.read_table(path)
    missing = {"text", "label"} - set(table.column_names)
    if missing:
        raise ValueError(f"{path} lacks column(s) {sorted(missing)}; it has {table.column_names}")
    texts = [t or "" for t in table.column("text").to_pylist()]
    labels = [str(label) for label in table.column("label").to_pylist()]
    sources = [str(s) for s in table.column("source").to_pylist()] if "source" in table.column_names else None
    return LabelledText(texts, labels, sources)


@dataclass
class Splits:
    train: LabelledText
    validation: LabelledText
    validation_source: str  # the file it came from, or "N% of train (stratified, seed S)"


def load_splits(data: Path, validation_fraction: float = 0.1, seed: int = 13, max_train: int | None = None) -> Splits:
    """Training and validation text from a directory or a single Parquet file.

    A directory holds `train.parquet` and, when it has one, `validation.parquet`;
    a file is the training data itself. Without a validation split, a stratified
    `validation_fraction` of the training rows is held out (the same rows for the same seed).
    """
    data = Path(data)
    if data.is_dir():
        train_path, valid_path = data / "train.parquet", data / "validation.parquet"
        if not train_path.is_file():
            raise FileNotFoundError(
                f"{data} has no train.parquet; give a directory with train.parquet (text, label) or a Parquet file"
            )
    elif data.suffix == ".parquet" or data.is_file():
        train_path, valid_path = data, None
    else:
        raise FileNotFoundError(f"training data not found: {data} (a directory with train.parquet, or a .parquet file)")
    train = read_labelled(train_path)
    if valid_path is not None and valid_path.is_file():
        valid, source = read_labelled(valid_path), str(valid_path)
    else:
        train, valid = holdout(train, validation_fraction, seed)
        source = f"{validation_fraction:.0%} of {train_path.name} (stratified, seed {seed})"
    if max_train is not None:
        train = train.take(range(min(max_train, len(train.texts))))
    return Splits(train, valid, source)


def holdout(data: LabelledText, fraction: float, seed: int) -> tuple[LabelledText, LabelledText]:
    """A stratified split: `fraction` of each label's rows go to the second part."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), not {fraction}")
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(data.labels):
        by_label.setdefault(label, []).append(i)
    rng = random.Random(seed)
    held: set[int] = set()
    for label in sorted(by_label):
        rows = by_label[label]
        rng.shuffle(rows)
        held.update(rows[: max(1, round(len(rows) * fraction))])
    keep = [i for i in range(len(data.texts)) if i not in held]
    return data.take(keep), data.take(sorted(held))


def encode(texts: Sequence[str], vocab: Vocab, max_tokens: int) -> list[list[int]]:
    """Token ids per text, cut to `max_tokens`; an empty text becomes one unknown token."""
    return [vocab.encode(tokenize(text, max_tokens)[:max_tokens])[:max_tokens] or [1] for text in texts]


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
