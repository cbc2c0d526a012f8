"""Tokenize and encode documents; the vocabulary loads once per worker in setup().

Documents that cannot be scored go to the `skipped` output with a reason, so the
accounting stays whole: read = scored + skipped.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import apache_beam as beam
import numpy as np
import torch
from apache_beam.metrics import Metrics

from pipelines.topics import Topics
from sentiment_model import checkpoint
from sentiment_model.tokenize import tokenize_prefix
from sentiment_model.vocab import Vocab

NAMESPACE = "sentiment"
SKIPPED = "skipped"


class DocKey(NamedTuple):
    """What travels beside the token ids through RunInference."""

    doc_id: str
    source: str
    date: str  # YYYY-MM-DD of published_at in UTC
    lang: str | None
    truncated: bool  # the text had more tokens than the limit
    n_tokens: int  # tokens scored (at most the limit)
    chars_cut: int = 0  # characters after the last scored token (0 when nothing was cut)
    topics: tuple[str, ...] = ()


def skip_record(row: dict, reason: str) -> dict:
    published = row.get("published_at")
    return {
        "doc_id": row.get("doc_id"),
        "source": row.get("source"),
        "date": published.date().isoformat() if published is not None else None,
        "reason": reason,
    }


class _EncodeFn(beam.DoFn):
    def __init__(self, model_dir: str, max_tokens: int | None, topics: Topics, torch_threads: int | None):
        self.model_dir = model_dir
        self.max_tokens_override = max_tokens
        self.topics = topics
        self.torch_threads = torch_threads
        self.read = Metrics.counter(NAMESPACE, "documents_read")
        self.truncated = Metrics.counter(NAMESPACE, "documents_truncated")

    def setup(self):
        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        meta = checkpoint.read_meta(Path(self.model_dir))
        self.vocab = Vocab.load(Path(self.model_dir) / checkpoint.VOCAB)
        self.max_tokens = self.max_tokens_override or int(meta["max_tokens"])

    def process(self, row: dict):
        self.read.inc()
        text = row.get("text")
        if row.get("published_at") is None:
            yield self._skip(row, "no_timestamp")
            return
        if not isinstance(text, str) or not text.strip():
            yield self._skip(row, "empty_text")
            return
        tokens, chars_cut = tokenize_prefix(text, self.max_tokens)
        if not tokens:
            yield self._skip(row, "no_tokens")
            return
        truncated = len(tokens) > self.max_tokens
        if truncated:
            self.truncated.inc()
            tokens = tokens[: self.max_tokens]
        key = DocKey(
            doc_id=row["doc_id"],
            source=row["source"],
            date=row["published_at"].date().isoformat(),
            lang=row.get("lang"),
            truncated=truncated,
            n_tokens=len(tokens),
            chars_cut=chars_cut,
            topics=self.topics.match(text),
        )
        yield key, np.asarray(self.vocab.encode(tokens), dtype=np.int32)

    def _skip(self, row: dict, reason: str):
        Metrics.counter(NAMESPACE, f"documents_skipped_{reason}").inc()
        return beam.pvalue.TaggedOutput(SKIPPED, skip_record(row, reason))


class EncodeDocuments(beam.PTransform):
    """Raw rows -> main: (DocKey, int32 array of token ids); `skipped`: {doc_id, source, date, reason}.

    Ids travel as numpy arrays: they pickle far faster between stages than tensors.
    """

    def __init__(
        self,
        model_dir: str,
        max_tokens: int | None = None,
        topics: Topics | None = None,
        torch_threads: int | None = None,
    ):
        super().__init__()
        self.fn = _EncodeFn(model_dir, max_tokens, topics or Topics(), torch_threads)

    def expand(self, rows):
        return rows | "Encode" >> beam.ParDo(self.fn).with_outputs(SKIPPED, main="encoded")
