"""Turn inference results into scored-document rows and their Parquet schema."""

from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics

from pipelines.encode import NAMESPACE, DocKey
from sentiment_model.predict import sentiment_score


def scored_schema(labels: list[str]) -> pa.Schema:
    """Columns of a scored row; `date` and `source` are also the partition keys."""
    return pa.schema(
        [
            ("doc_id", pa.string()),
            ("date", pa.string()),
            ("source", pa.string()),
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


class _ToRowFn(beam.DoFn):
    def __init__(self, labels: list[str], model_version: str):
        self.labels = labels
        self.model_version = model_version
        self.scored = Metrics.counter(NAMESPACE, "documents_scored")

    def process(self, element):
        key, result = element
        key = DocKey(*key)
        probs = [float(p) for p in result.inference]
        best = max(range(len(probs)), key=probs.__getitem__)
        self.scored.inc()
        yield {
            "doc_id": key.doc_id,
            "date": key.date,
            "source": key.source,
            "lang": key.lang,
            "label": self.labels[best],
            **{f"p_{label}": p for label, p in zip(self.labels, probs, strict=True)},
            "score": sentiment_score(self.labels, probs),
            "truncated": key.truncated,
            "n_tokens": key.n_tokens,
            "chars_cut": key.chars_cut,
            "topics": list(key.topics),
            "model_version": self.model_version,
        }


class ToScoredRows(beam.PTransform):
    """(DocKey, PredictionResult) -> scored row dicts."""

    def __init__(self, labels: list[str], model_version: str):
        super().__init__()
        self.labels = labels
        self.model_version = model_version

    def expand(self, results):
        return results | "ToRow" >> beam.ParDo(_ToRowFn(self.labels, self.model_version))
