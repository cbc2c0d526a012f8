"""Turn inference results into scored-document tables and their Parquet schema."""

from __future__ import annotations

import apache_beam as beam
import numpy as np
import pyarrow as pa
from apache_beam.metrics import Metrics

from pipelines.encode import NAMESPACE


def scored_schema(labels: list[str]) -> pa.Schema:
    """Columns of a scored row; `date` and `source` are also the partition keys."""
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("date", pa.string()),
            ("source", pa.string()),
            ("published_at", pa.timestamp("us", tz="UTC")),
            ("lang", pa.string()),
            ("label", pa.string()),
            *[(f"p_{label}", pa.float64()) for label in labels],
            ("score", pa.float64()),  # P(positive) - P(negative); null without those classes
            ("truncated", pa.bool_()),
            ("n_tokens", pa.int32()),  # tokens scored (at most the token limit)
            ("chars_cut", pa.int32()),  # characters past the token limit, not seen by the model
            ("topics", pa.list_(pa.string())),  # configured topics and hashtags found in the text
            ("model_version", pa.string()),
        ]
    )


def scored_table(keys: pa.Table, probs: np.ndarray, labels: list[str], model_version: str) -> pa.Table:
    """Scored rows for documents `keys` (KEY_SCHEMA) and their [documents, classes] probabilities."""
    probs = probs.astype(np.float64)
    index = {label: i for i, label in enumerate(labels)}
    n = keys.num_rows
    score = (
        probs[:, index["positive"]] - probs[:, index["negative"]]
        if "positive" in index and "negative" in index
        else pa.nulls(n, pa.float64())
    )
    columns = {
        **{name: keys.column(name) for name in ("doc_id", "date", "source", "published_at", "lang")},
        # the first of equal probabilities wins, as max() over a list
        "label": pa.array(np.asarray(labels, dtype=object)[probs.argmax(axis=1)], pa.string()),
        **{f"p_{label}": probs[:, i] for i, label in enumerate(labels)},
        "score": score,
        **{name: keys.column(name) for name in ("truncated", "n_tokens", "chars_cut", "topics")},
        "model_version": pa.array([model_version] * n, pa.string()),
    }
    return pa.table(columns, schema=scored_schema(labels))


class _ToTableFn(beam.DoFn):
    def __init__(self, labels: list[str], model_version: str):
        self.labels = labels
        self.model_version = model_version
        self.scored = Metrics.counter(NAMESPACE, "documents_scored")

    def process(self, result):
        table = scored_table(result.example.keys, result.inference, self.labels, self.model_version)
        self.scored.inc(table.num_rows)
        yield table


class ToScoredRows(beam.PTransform):
    """PredictionResult(EncodedBatch, probabilities) -> an Arrow table of scored rows (scored_schema)."""

    def __init__(self, labels: list[str], model_version: str):
        super().__init__()
        self.labels = labels
        self.model_version = model_version

    def expand(self, results):
        return results | "ToTable" >> beam.ParDo(_ToTableFn(self.labels, self.model_version))
