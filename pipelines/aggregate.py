"""The daily_sentiment table: date x source x lang -> counts, shares and score statistics."""

from __future__ import annotations

import math

import apache_beam as beam
import pyarrow as pa


def daily_schema(labels: list[str]) -> pa.Schema:
    return pa.schema(
        [
            ("date", pa.string()),
            ("source", pa.string()),
            ("lang", pa.string()),
            ("documents", pa.int64()),
            *[(f"n_{label}", pa.int64()) for label in labels],
            *[(f"share_{label}", pa.float64()) for label in labels],
            ("mean_score", pa.float64()),
            ("std_score", pa.float64()),
            ("ci95_low", pa.float64()),  # normal-approximation 95% interval of the mean score
            ("ci95_high", pa.float64()),
            ("model_version", pa.string()),
        ]
    )


class SentimentStats(beam.CombineFn):
    """Counts per label and the running sums of score: [n, per-label counts, sum, sum of squares, scored]."""

    def __init__(self, labels: list[str]):
        self.labels = labels
        self.index = {label: i for i, label in enumerate(labels)}

    def create_accumulator(self):
        return [0, [0] * len(self.labels), 0.0, 0.0, 0, set()]

    def add_input(self, acc, row):
        acc[0] += 1
        acc[1][self.index[row["label"]]] += 1
        if row["score"] is not None:
            acc[2] += row["score"]
            acc[3] += row["score"] ** 2
            acc[4] += 1
        acc[5].add(row["model_version"])
        return acc

    def merge_accumulators(self, accumulators):
        merged = self.create_accumulator()
        for acc in accumulators:
            merged[0] += acc[0]
            merged[1] = [a + b for a, b in zip(merged[1], acc[1], strict=True)]
            merged[2] += acc[2]
            merged[3] += acc[3]
            merged[4] += acc[4]
            merged[5] |= acc[5]
        return merged

    def extract_output(self, acc):
        n, counts, total, squares, scored, versions = acc
        mean = total / scored if scored else None
        std = math.sqrt(max(squares / scored - mean**2, 0.0) * scored / (scored - 1)) if scored > 1 else None
        half = 1.96 * std / math.sqrt(scored) if std is not None else None
        return {
            "documents": n,
            **{f"n_{label}": c for label, c in zip(self.labels, counts, strict=True)},
            **{f"share_{label}": c / n for label, c in zip(self.labels, counts, strict=True)},
            "mean_score": mean,
            "std_score": std,
            "ci95_low": mean - half if half is not None else None,
            "ci95_high": mean + half if half is not None else None,
            "model_version": ",".join(sorted(versions)),
        }


class DailySentiment(beam.PTransform):
    """Scored rows -> one daily_sentiment row per (date, source, lang)."""

    def __init__(self, labels: list[str]):
        super().__init__()
        self.labels = labels

    def expand(self, scored):
        return (
            scored
            | "KeyByDaySourceLang" >> beam.Map(lambda r: ((r["date"], r["source"], r["lang"]), r))
            | "Combine" >> beam.CombinePerKey(SentimentStats(self.labels))
            | "ToRow" >> beam.MapTuple(lambda k, stats: {"date": k[0], "source": k[1], "lang": k[2], **stats})
        )
