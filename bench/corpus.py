"""A synthetic lake for benchmarks: real texts sampled with replacement, in a realistic length mix."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.ingest import ingest_source
from ingestion.sources import SourceSpec
from sentiment.warehouse import Warehouse

# share of documents per kind, and where their texts come from (inside the datasets directory)
MIX = [
    ("twitter", 0.70, "airline_tweets/all.parquet"),  # tweets: ~20 tokens
    ("news_headlines", 0.20, "reddit_worldnews/all.parquet"),  # headlines: ~15 tokens
    ("news_articles", 0.10, "imdb/test.parquet"),  # long texts (~270 tokens), standing in for articles
]


def build_lake(data_dir: Path, home: Path, docs: int, days: int = 30, seed: int = 0) -> dict[str, int]:
    """Write `docs` documents over `days` days as raw partitions; returns documents per source."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    counts = {}
    warehouse = Warehouse(home)
    staging = home / "bench-input"
    staging.mkdir(parents=True, exist_ok=True)
    for source, share, relative in MIX:
        texts = [t for t in pq.read_table(data_dir / relative, columns=["text"]).column("text").to_pylist() if t]
        n = round(docs * share)
        rows = [
            {
                "id": f"{source}-{i}",
                "text": rng.choice(texts),
                "published_at": start + timedelta(seconds=rng.randrange(days * 86400)),
            }
            for i in range(n)
        ]
        path = staging / f"{source}.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
        # texts are sampled with replacement: keep repeats (no same-day text dedup), skip language ID
        spec = SourceSpec(name=source, path=path, id_field="id", default_lang="en", detect_lang=False, dedup_text=False)
        ingest_source(spec, warehouse)
        counts[source] = n
    return counts
