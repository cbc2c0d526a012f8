"""Sentiment tables: counts, shares and score statistics per group.

daily_sentiment:        date x source x lang
hourly_sentiment:       date x hour (UTC) x source x lang
daily_topic_sentiment:  date x source x lang x topic (one row per topic a document has)
"""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction

import apache_beam as beam
import pyarrow as pa
import pyarrow.compute as pc
from apache_beam.metrics import Metrics

from pipelines.encode import NAMESPACE

DAILY_KEYS = ("date", "source", "lang")
HOURLY_KEYS = ("date", "hour", "source", "lang")
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


def hourly_schema(labels: list[str]) -> pa.Schema:
    """`hour`: the hour's start in UTC, a timestamp without zone (SQL's date_trunc works on it as is)."""
    schema = table_schema(labels, HOURLY_KEYS)
    return schema.set(schema.get_field_index("hour"), pa.field("hour", pa.timestamp("us")))


def partial_stats(table: pa.Table, keys: tuple[str, ...], labels: list[str]):
    """(key values, accumulator) per group of `keys` in a table of scored rows (SentimentStats' accumulator)."""
    if table.num_rows == 0:
        return
    score = table.column("score")
    work = pa.table(
        {
            **{k: table.column(k) for k in keys},
            **{f"_n{i}": pc.cast(pc.equal(table.column("label"), label), pa.int64()) for i, label in enumerate(labels)},
            "_score": score,
            "_square": pc.multiply(score, score),
            "_version": table.column("model_version"),
        }
    )
    aggregations = [
        ([], "count_all"),
        *[(f"_n{i}", "sum") for i in range(len(labels))],
        ("_score", "sum"),
        ("_square", "sum"),
        ("_score", "count"),
        ("_version", "distinct"),
    ]
    grouped = work.group_by(list(keys), use_threads=False).aggregate(aggregations).to_pylist()
    for g in grouped:
        counts = [g[f"_n{i}_sum"] or 0 for i in range(len(labels))]
        yield (
            tuple(g[k] for k in keys),
            [
                g["count_all"],
                counts,
                Fraction(g["_score_sum"] or 0.0),
                Fraction(g["_square_sum"] or 0.0),
                g["_score_count"],
                set(g["_version_distinct"]),
            ],
        )


class SentimentStats(beam.CombineFn):
    """Accumulator: [documents, per-label counts, sum of score, sum of squares, scored, versions];
    inputs are accumulators of parts of a group (partial_stats).

    The sums are exact fractions, so a group's statistics do not depend on the order its parts
    arrive in (the same scores give bit-identical tables, however the runner schedules them),
    and the variance suffers no cancellation.
    """

    def __init__(self, labels: list[str]):
        self.labels = labels

    def create_accumulator(self):
        return [0, [0] * len(self.labels), Fraction(0), Fraction(0), 0, set()]

    def add_input(self, acc, part):
        return self.merge_accumulators([acc, part])

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
        mean = float(total / scored) if scored else None
        variance = (squares - total * total / scored) / (scored - 1) if scored > 1 else None
        std = math.sqrt(max(float(variance), 0.0)) if variance is not None else None
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


def one_row_per_topic(table: pa.Table) -> pa.Table:
    """A row per (document, topic), with the topic in a `topic` column; documents without topics drop out."""
    topics = table.column("topics")
    return table.take(pc.list_parent_indices(topics)).append_column("topic", pc.list_flatten(topics))


class _WithHourFn(beam.DoFn):
    """Adds `hour` ("00".."23" of published_at in UTC); rows without a time (scored before scored rows
    kept one) cannot be placed in an hour: they are left out and counted."""

    def __init__(self):
        self.untimed = Metrics.counter(NAMESPACE, "hourly_rows_without_time")

    def process(self, table: pa.Table):
        if "published_at" not in table.column_names:
            self.untimed.inc(table.num_rows)
            return
        timed = table.filter(pc.is_valid(table.column("published_at")))
        if timed.num_rows < table.num_rows:  # only then: the counter is news when it shows up
            self.untimed.inc(table.num_rows - timed.num_rows)
        if timed.num_rows:
            yield timed.append_column("hour", pc.strftime(timed.column("published_at"), format="%H"))


def _hour_start(row: dict) -> dict:
    return {**row, "hour": datetime.fromisoformat(f"{row['date']}T{row['hour']}:00:00")}


class AggregateSentiment(beam.PTransform):
    """Arrow tables of scored rows -> one row per group of `keys`; with per_topic, a row per (group, topic)."""

    def __init__(self, labels: list[str], keys: tuple[str, ...] = DAILY_KEYS, per_topic: bool = False):
        super().__init__()
        self.labels, self.keys, self.per_topic = labels, keys, per_topic

    def expand(self, scored):
        keys, labels = self.keys, self.labels
        if self.per_topic:
            scored = scored | "OneRowPerTopic" >> beam.Map(one_row_per_topic)
        if "hour" in keys:
            scored = scored | "WithHour" >> beam.ParDo(_WithHourFn())
        rows = (
            scored
            | "PartialStats" >> beam.FlatMap(partial_stats, keys, labels)
            | "Combine" >> beam.CombinePerKey(SentimentStats(labels))
            | "ToRow" >> beam.MapTuple(lambda k, stats: {**dict(zip(keys, k, strict=True)), **stats})
        )
        return rows | "HourStart" >> beam.Map(_hour_start) if "hour" in keys else rows


class DailySentiment(AggregateSentiment):
    """Scored rows -> one daily_sentiment row per (date, source, lang)."""

    def __init__(self, labels: list[str]):
        super().__init__(labels, DAILY_KEYS)


class HourlySentiment(AggregateSentiment):
    """Scored rows -> one hourly_sentiment row per (date, hour, source, lang); `hour` a UTC timestamp."""

    def __init__(self, labels: list[str]):
        super().__init__(labels, HOURLY_KEYS)


class DailyTopicSentiment(AggregateSentiment):
    """Scored rows -> one daily_topic_sentiment row per (date, source, lang, topic)."""

    def __init__(self, labels: list[str]):
        super().__init__(labels, TOPIC_KEYS, per_topic=True)
