"""Sentiment tables: counts, shares and score statistics per group.

daily_sentiment:        date x source x lang
daily_topic_sentiment:  date x source x lang x topic (one row per topic a document has)
"""

from __future__ import annotations

import math

import apache_beam as beam
import pyarrow as pa

DAILY_KEYS = ("date", "source", "lang")
TOPIC_KEYS = ("date", "source", "lang", "topic")


def table_schema(labels: list[str], keys: tuple[str, ...]) -> pa.Schema:
    return pa.schema(
        [
            *[(k, pa.string()) for k in keys],
            ("documents", pa.int64()),
            *[(f"n_{label}", pa.int64()) for label in labels],
            *[(f"share_{label}", pa.float64()) for label in labels],
            ("mean_score", pa.float64()),
            ("std_score", pa.float64()),  # sample standard deviation
            ("ci95_low", pa.float64()),  # normal-approximation 95% interval of the mean score
            ("ci95_high", pa.float64()),
            ("model_version", pa.string()),
        ]
    )


def daily_schema(labels: list[str]) -> pa.Schema:
    return table_schema(labels, DAILY_KEYS)


def topic_schema(labels: list[str]) -> pa.Schema:
    return table_schema(labels, TOPIC_KEYS)


class SentimentStats(beam.CombineFn):
    """Accumulator: [documents, per-label counts, sum of score, sum of squares, scored, versions]."""

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


def _topic_rows(row: dict):
    for topic in row.get("topics") or ():
        yield {**row, "topic": topic}


class AggregateSentiment(beam.PTransform):
    """Scored rows -> one row per group of `keys`; with per_topic, a row per (group, topic)."""

    def __init__(self, labels: list[str], keys: tuple[str, ...] = DAILY_KEYS, per_topic: bool = False):
        super().__init__()
        self.labels, self.keys, self.per_topic = labels, keys, per_topic

    def expand(self, scored):
        keys = self.keys
        if self.per_topic:
            scored = scored | "OneRowPerTopic" >> beam.FlatMap(_topic_rows)
        return (
            scored
            | "KeyByGroup" >> beam.Map(lambda r: (tuple(r[k] for k in keys), r))
            | "Combine" >> beam.CombinePerKey(SentimentStats(self.labels))
            | "ToRow" >> beam.MapTuple(lambda k, stats: {**dict(zip(keys, k, strict=True)), **stats})
        )


class DailySentiment(AggregateSentiment):
    """Scored rows -> one daily_sentiment row per (date, source, lang)."""

    def __init__(self, labels: list[str]):
        super().__init__(labels, DAILY_KEYS)


class DailyTopicSentiment(AggregateSentiment):
    """Scored rows -> one daily_topic_sentiment row per (date, source, lang, topic)."""

    def __init__(self, labels: list[str]):
        super().__init__(labels, TOPIC_KEYS, per_topic=True)
