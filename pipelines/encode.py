"""Tokenize and encode documents; the vocabulary loads once per worker in setup()."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import apache_beam as beam
import torch
from apache_beam.metrics import Metrics

from sentiment_model import checkpoint
from sentiment_model.tokenize import tokenize
from sentiment_model.vocab import UNK_ID, Vocab

NAMESPACE = "sentiment"


class DocKey(NamedTuple):
    """What travels beside the token ids through RunInference."""

    doc_id: str
    source: str
    date: str  # YYYY-MM-DD of published_at in UTC
    lang: str | None
    truncated: bool  # the text had more tokens than the model's max_tokens


class _EncodeFn(beam.DoFn):
    def __init__(self, model_dir: str):
        self.model_dir = model_dir
        self.read = Metrics.counter(NAMESPACE, "documents_read")
        self.truncated = Metrics.counter(NAMESPACE, "documents_truncated")
        self.skipped = Metrics.counter(NAMESPACE, "documents_skipped_no_text")

    def setup(self):
        meta = checkpoint.read_meta(Path(self.model_dir))
        self.vocab = Vocab.load(Path(self.model_dir) / checkpoint.VOCAB)
        self.max_tokens = int(meta["max_tokens"])

    def process(self, row: dict):
        self.read.inc()
        text = row.get("text")
        if not text:
            self.skipped.inc()
            return
        tokens = tokenize(text)
        truncated = len(tokens) > self.max_tokens
        if truncated:
            self.truncated.inc()
        ids = self.vocab.encode(tokens[: self.max_tokens]) or [UNK_ID]
        key = DocKey(
            doc_id=row["doc_id"],
            source=row["source"],
            date=row["published_at"].date().isoformat(),
            lang=row.get("lang"),
            truncated=truncated,
        )
        yield key, torch.tensor(ids, dtype=torch.long)


class EncodeDocuments(beam.PTransform):
    """Raw rows -> (DocKey, LongTensor of token ids)."""

    def __init__(self, model_dir: str):
        super().__init__()
        self.model_dir = model_dir

    def expand(self, rows):
        return rows | "Encode" >> beam.ParDo(_EncodeFn(self.model_dir))
