"""Tokenize and encode documents a batch at a time; the vocabulary loads once per worker in setup().

Raw documents arrive as Arrow tables (a Parquet row group each); each leaves as
EncodedBatch elements of about `max_batch_tokens` tokens, cut in the table's row
order, so a document always lands in the same batch whatever the runner (its
scores then do not depend on timing). Documents that cannot be scored go to the
`skipped` output with a reason, so the accounting stays whole: read = scored + skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import torch
from apache_beam.metrics import Metrics
from apache_beam.transforms.window import GlobalWindow
from apache_beam.utils.windowed_value import WindowedValue

from pipelines.topics import Topics
from sentiment.storage import location
from sentiment_model import checkpoint
from sentiment_model.tokenize import tokenize_prefix
from sentiment_model.vocab import Vocab

NAMESPACE = "sentiment"
SKIPPED = "skipped"
LANGUAGE_COUNTER = "documents_given_lang_"  # + code: documents given to the model, per language
# Tokens per encoded batch: larger batches sort into sub-batches with less padding (16,384 -> 65,536
# measured 1.08x faster end to end on the scoring benchmark's lake; a batch never spans two raw files).
DEFAULT_BATCH_TOKENS = 65536
KEY_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("date", pa.string()),  # YYYY-MM-DD of published_at in UTC
        ("published_at", pa.timestamp("us", tz="UTC")),
        ("lang", pa.string()),
        ("truncated", pa.bool_()),  # the text had more tokens than the limit
        ("n_tokens", pa.int32()),  # tokens scored (at most the limit)
        ("chars_cut", pa.int32()),  # characters after the last scored token (0 when nothing was cut)
        ("topics", pa.list_(pa.string())),
    ]
)


@dataclass
class EncodedBatch:
    """Documents ready for the model: what travels beside their ids (`keys`, KEY_SCHEMA) and
    the ids of all of them end to end (`ids`, int32), document i at ids[offsets[i]:offsets[i+1]]."""

    keys: pa.Table
    ids: np.ndarray
    offsets: np.ndarray

    def __len__(self) -> int:
        return self.keys.num_rows

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @classmethod
    def from_lists(cls, keys: dict[str, list], ids: list[list[int]]) -> EncodedBatch:
        offsets = np.zeros(len(ids) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in ids], out=offsets[1:])
        flat = np.fromiter((i for s in ids for i in s), dtype=np.int32, count=int(offsets[-1]))
        return cls(pa.table(keys, schema=KEY_SCHEMA), flat, offsets)


class _EncodeFn(beam.DoFn):
    def __init__(
        self,
        model_dir: str,
        max_tokens: int | None,
        topics: Topics,
        torch_threads: int | None,
        max_batch_tokens: int,
        languages: frozenset[str] | None = None,
        join_tables: bool = False,
    ):
        self.model_dir = model_dir
        self.languages = languages
        self.join_tables = join_tables
        self.max_tokens_override = max_tokens
        self.topics = topics
        self.torch_threads = torch_threads
        self.max_batch_tokens = max_batch_tokens
        self.read = Metrics.counter(NAMESPACE, "documents_read")
        self.truncated = Metrics.counter(NAMESPACE, "documents_truncated")

    def setup(self):
        if self.torch_threads:
            torch.set_num_threads(self.torch_threads)
        model = location(self.model_dir)  # a local directory, or the model's in the warehouse on object storage
        meta = checkpoint.read_meta(model)
        self.vocab = Vocab.load(model / checkpoint.VOCAB)
        self.max_tokens = self.max_tokens_override or int(meta["max_tokens"])

    def start_bundle(self):
        self._empty()

    def _empty(self) -> None:
        """No documents waiting for a batch."""
        self.keys: dict[str, list] = {name: [] for name in KEY_SCHEMA.names}
        self.ids: list[list[int]] = []
        self.tokens_in_batch = 0

    def finish_bundle(self):
        if self.ids:  # what joined tables left over: the bundle's last batch
            yield WindowedValue(self._cut(), GlobalWindow().max_timestamp(), [GlobalWindow()])

    def _cut(self) -> EncodedBatch:
        batch = EncodedBatch.from_lists(self.keys, self.ids)
        self._empty()
        return batch

    def process(self, table: pa.Table):
        self.read.inc(table.num_rows)
        published = table.column("published_at")
        days = pc.strftime(published, format="%Y-%m-%d").to_pylist()
        columns = zip(
            table.column("doc_id").to_pylist(),
            table.column("source").to_pylist(),
            days,
            published.cast(pa.int64()).to_pylist(),  # microseconds: cheaper than datetimes
            table.column("lang").to_pylist(),
            table.column("text").to_pylist(),
            strict=True,
        )
        if not self.join_tables:  # a batch never spans two tables
            self._empty()
        keys, ids = self.keys, self.ids
        encode, limit, truncated = self.vocab.encode, self.max_tokens, 0  # pieces can make ids longer: cut again
        by_language: dict[str, int] = {}
        for doc_id, source, day, micros, lang, text in columns:
            if day is None:
                yield self._skip(doc_id, source, None, "no_timestamp")
                continue
            if self.languages is not None and lang not in self.languages:
                yield self._skip(doc_id, source, day, f"language_{lang}")
                continue
            if not isinstance(text, str) or not text.strip():
                yield self._skip(doc_id, source, day, "empty_text")
                continue
            tokens, chars_cut = tokenize_prefix(text, limit)
            if not tokens:
                yield self._skip(doc_id, source, day, "no_tokens")
                continue
            by_language[lang] = by_language.get(lang, 0) + 1
            cut = len(tokens) > limit
            if cut:
                truncated += 1
                tokens = tokens[:limit]
            for name, value in zip(
                KEY_SCHEMA.names,
                (doc_id, source, day, micros, lang, cut, len(tokens), chars_cut, self.topics.match(text)),
                strict=True,
            ):
                keys[name].append(value)
            ids.append(encode(tokens)[:limit])
            self.tokens_in_batch += len(ids[-1])
            if self.tokens_in_batch >= self.max_batch_tokens:
                yield self._cut()
                keys, ids = self.keys, self.ids
        if self.ids and not self.join_tables:
            yield self._cut()
        self.truncated.inc(truncated)
        for lang, n in by_language.items():  # what the model was given, per language
            Metrics.counter(NAMESPACE, f"{LANGUAGE_COUNTER}{lang}").inc(n)

    def _skip(self, doc_id, source, day: str | None, reason: str):
        Metrics.counter(NAMESPACE, f"documents_skipped_{reason}").inc()
        return beam.pvalue.TaggedOutput(SKIPPED, {"doc_id": doc_id, "source": source, "date": day, "reason": reason})


class EncodeDocuments(beam.PTransform):
    """Arrow tables of raw documents -> main: EncodedBatch of `max_batch_tokens` tokens or a
    document more (the last of a table fewer); `skipped`: {doc_id, source, date, reason} per document.
    With `languages`, documents in any other language are skipped (reason `language_<code>`):
    a model is only given text in the languages it reads.

    With `join_tables`, a batch goes on into the next table of the bundle (small files, such as a
    day's 25 headlines, then fill whole batches); only for a model whose scores do not depend on
    a document's batch (the folded model), since which tables share a bundle is the runner's choice.
    """

    def __init__(
        self,
        model_dir: str,
        max_tokens: int | None = None,
        topics: Topics | None = None,
        torch_threads: int | None = None,
        max_batch_tokens: int = DEFAULT_BATCH_TOKENS,
        languages: frozenset[str] | None = None,
        join_tables: bool = False,
    ):
        super().__init__()
        self.fn = _EncodeFn(
            model_dir, max_tokens, topics or Topics(), torch_threads, max_batch_tokens, languages, join_tables
        )

    def expand(self, tables):
        return tables | "Encode" >> beam.ParDo(self.fn).with_outputs(SKIPPED, main="encoded")
