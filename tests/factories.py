"""Small, deterministic corpora that the tests make themselves."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

WORDS = {
    "positive": ["love", "great", "fantastic", "thanks", "awesome", "happy"],
    "negative": ["hate", "awful", "terrible", "delayed", "lost", "worst"],
    "neutral": ["flight", "gate", "tomorrow", "schedule", "seat", "question"],
}
FILLER = ["the", "my", "a", "crew", "today", "this", "airline", "was", "is"]


def labelled_rows(n: int, seed: int = 0) -> list[dict]:
    """Short texts whose label is carried by one or two cue words among filler."""
    rng = random.Random(seed)
    labels = sorted(WORDS)
    rows = []
    for i in range(n):
        label = labels[i % len(labels)]
        words = rng.sample(FILLER, 4) + rng.sample(WORDS[label], 2)
        rng.shuffle(words)
        rows.append({"text": "@airline " + " ".join(words), "label": label})
    return rows


def write_labelled_dir(directory: Path, n_train: int = 240, n_valid: int = 60, n_test: int = 60) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for split, n, seed in (("train", n_train, 1), ("validation", n_valid, 2), ("test", n_test, 3)):
        pq.write_table(pa.Table.from_pylist(labelled_rows(n, seed)), directory / f"{split}.parquet")
    return directory


def tweets(n: int = 60, start: datetime = datetime(2015, 2, 17, 8, tzinfo=UTC), days: int = 3) -> list[dict]:
    """Dated tweets like airline_tweets/all.parquet, spread over `days` days."""
    rows = []
    for i, row in enumerate(labelled_rows(n, seed=7)):
        rows.append(
            {
                "doc_id": str(570000000000000000 + i),
                "text": row["text"],
                "label": row["label"],
                "published_at": start + timedelta(hours=i * 24 * days / n),
                "author": f"user{i % 5}",
            }
        )
    return rows


def headlines(days: int = 3, per_day: int = 4, start: datetime = datetime(2015, 2, 17, tzinfo=UTC)) -> list[dict]:
    """Dated headlines like reddit_worldnews/all.parquet."""
    rows = []
    for d in range(days):
        day = start + timedelta(days=d)
        for rank in range(1, per_day + 1):
            rows.append(
                {
                    "doc_id": f"{day:%Y-%m-%d}_{rank:02d}",
                    "published_at": day,
                    "text": f"World leaders meet on day {d} about topic {rank}",
                    "rank": rank,
                }
            )
    return rows


def write_demo_data(data_dir: Path) -> Path:
    """A datasets directory shaped like the real one, tiny, with the real data's quirks:
    a tweet id that appears twice and a headline that is only spaces."""
    write_labelled_dir(data_dir / "airline_tweets")
    all_tweets = tweets()
    all_tweets.append(dict(all_tweets[3]))  # the same tweet id twice
    pq.write_table(pa.Table.from_pylist(all_tweets), data_dir / "airline_tweets" / "all.parquet")
    news = headlines()
    news[5]["text"] = "   "  # one headline is only spaces
    (data_dir / "reddit_worldnews").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(news), data_dir / "reddit_worldnews" / "all.parquet")
    return data_dir


TINY_TRAIN = {"epochs": 6, "embed_dim": 24, "hidden_dim": 24, "batch_size": 32, "lr": 1e-2, "min_freq": 1}


def beam_test_pipeline():
    """Beam's TestPipeline on the in-process FnApiRunner (never a Prism download)."""
    from apache_beam.testing.test_pipeline import TestPipeline

    return TestPipeline(runner="FnApiRunner", argv=[])


def make_lake(root: Path, model_dir: Path):
    """A warehouse under `root` with the demo corpora ingested and `model_dir` as its current model."""
    import shutil

    from ingestion.config import demo_sources
    from ingestion.ingest import ingest_source
    from sentiment.warehouse import Warehouse

    data = write_demo_data(root / "data")
    warehouse = Warehouse(root / "wh")
    for spec in demo_sources(data):
        ingest_source(spec, warehouse)
    warehouse.models.mkdir(parents=True)
    shutil.copytree(model_dir, warehouse.models / "v1")
    warehouse.set_current_model(warehouse.models / "v1")
    return warehouse
