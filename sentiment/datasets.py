"""Fetch the public datasets from their canonical URLs, verified by SHA-256, into a cache.

Each download is written to a temporary file, checked against its pinned
checksum and size cap, then renamed into place; a file already in the cache with
the right checksum is not fetched again. Converting a fetched original into the
Parquet layout the project reads is done by `convert`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sentiment.files import sha256_file

log = logging.getLogger(__name__)
_GITHUB_RAW = "https://raw.githubusercontent.com"


class ChecksumError(RuntimeError):
    """The downloaded bytes are not the published file."""


@dataclass(frozen=True)
class RemoteFile:
    name: str  # the dataset folder it feeds, e.g. "airline_tweets"
    url: str
    sha256: str
    filename: str  # name in the cache
    max_bytes: int = 64 * 1024 * 1024  # refuse anything larger


REMOTE_FILES = {
    "airline_tweets": RemoteFile(
        "airline_tweets",
        f"{_GITHUB_RAW}/eidehua/Real-Time-SciVi/cd0faf96aa3e0378310408039298362c87c1d3b2/"
        "twitter-airline-sentiment/Tweets.csv",
        "ea94b23f41892b290dec3330bb8cf9cb6b8bc669eaae5f3a84c40f7b0de8f15e",
        "Tweets.csv",
    ),
    "reddit_worldnews": RemoteFile(
        "reddit_worldnews",
        f"{_GITHUB_RAW}/pragadeeshsureshbabu/Predicting-stock-rise-with-news/"
        "a9b722e82a949699f3eec025c577f98e98478644/RedditNews.csv.zip",
        # the checksum of the CSV member, verified after unzipping
        "82ae561547f4076e3421bce71357eb2ce366e67f88c8ad7d1104e75429e4e82f",
        "RedditNews.csv",
    ),
}


def fetch(remote: RemoteFile, cache: Path, timeout: float = 60.0) -> Path:
    """The verified file in `cache`, downloading it only when it is missing or corrupt."""
    target = cache / remote.filename
    if target.is_file() and sha256_file(target) == remote.sha256:
        log.info("%s: cached copy verified at %s", remote.name, target)
        return target
    cache.mkdir(parents=True, exist_ok=True)
    log.info("%s: downloading %s", remote.name, remote.url)
    payload = _download(remote.url, remote.max_bytes, timeout)
    if remote.url.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            payload = archive.read(remote.filename)
    digest = hashlib.sha256(payload).hexdigest()
    if digest != remote.sha256:
        raise ChecksumError(
            f"{remote.name}: {remote.url} gave sha256 {digest}, expected {remote.sha256}; "
            "the file changed or the download was corrupted: nothing was written"
        )
    tmp = cache / f".{remote.filename}.{uuid.uuid4().hex}"
    tmp.write_bytes(payload)
    os.replace(tmp, target)
    return target


def _download(url: str, max_bytes: int, timeout: float) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) only)
        payload = response.read(max_bytes + 1)
    if len(payload) > max_bytes:
        raise ValueError(f"{url} is larger than the {max_bytes:,}-byte cap")
    return payload


def convert_airline_tweets(csv_path: Path, dest: Path) -> Path:
    """Tweets.csv -> airline_tweets/{all,train,validation,test}.parquet."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_values=[""])
    frame = pd.DataFrame(
        {
            "doc_id": frame["tweet_id"],
            "text": frame["text"],
            "label": frame["airline_sentiment"],
            "airline": frame["airline"],
            "published_at": pd.to_datetime(frame["tweet_created"], format="%Y-%m-%d %H:%M:%S %z", utc=True),
            "author": frame["name"],
            "source_row": range(len(frame)),
        }
    )
    folder = dest / "airline_tweets"
    for split, rows in split_airline(frame).items():
        _write(pa.Table.from_pandas(rows, preserve_index=False), folder / f"{split}.parquet")
    return _write(pa.Table.from_pandas(frame, preserve_index=False), folder / "all.parquet")


def split_airline(frame: pd.DataFrame, seed: int = 13) -> dict[str, pd.DataFrame]:
    """The published 80/10/10 split: one row per doc_id, stratified by label, rng seed 13."""
    unique = frame.drop_duplicates("doc_id", keep="first")
    rng = np.random.default_rng(seed)
    assigned: dict[str, list[int]] = {"train": [], "validation": [], "test": []}
    for _, rows in sorted(unique.groupby("label"), key=lambda item: item[0]):
        order = rng.permutation(np.sort(rows["source_row"].to_numpy()))
        n_train, n_valid = round(0.8 * len(order)), round(0.1 * len(order))
        assigned["train"].extend(order[:n_train])
        assigned["validation"].extend(order[n_train : n_train + n_valid])
        assigned["test"].extend(order[n_train + n_valid :])
    indexed = unique.set_index("source_row", drop=False)
    return {name: indexed.loc[sorted(rows)].reset_index(drop=True) for name, rows in assigned.items()}


def convert_reddit_worldnews(csv_path: Path, dest: Path) -> Path:
    """RedditNews.csv -> reddit_worldnews/all.parquet (doc_id <date>_<rank>, published_at, text)."""
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    text = frame["News"].str.replace(r"""^b(["'])(.*)\1$""", r"\2", regex=True)
    rank = frame.groupby("Date").cumcount() + 1
    table = pa.table(
        {
            "doc_id": frame["Date"] + "_" + rank.map("{:02d}".format),
            "published_at": pd.to_datetime(frame["Date"], utc=True),
            "text": text,
            "rank": rank.astype("int64"),
        }
    )
    return _write(table, dest / "reddit_worldnews" / "all.parquet")


CONVERTERS: dict[str, Callable[[Path, Path], Path]] = {
    "airline_tweets": convert_airline_tweets,
    "reddit_worldnews": convert_reddit_worldnews,
}


def download(names: list[str], dest: Path, cache: Path) -> list[Path]:
    """Fetch, verify and convert the named datasets into `dest/<name>/`."""
    unknown = sorted(set(names) - set(REMOTE_FILES))
    if unknown:
        raise ValueError(f"unknown dataset(s) {unknown}; known: {sorted(REMOTE_FILES)}")
    return [CONVERTERS[name](fetch(REMOTE_FILES[name], cache), dest) for name in names]


def _write(table: pa.Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return path
