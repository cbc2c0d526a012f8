"""Word vectors pretrained on unlabelled text, and training that starts from them."""

import os
import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from sentiment_model.corpus import pretraining_files
from sentiment_model.embeddings import EmbeddingConfig, WordVectors, build, initialise, vocabulary_with
from sentiment_model.vocab import Vocab

SMALL = EmbeddingConfig(dim=8, window=2, min_count=1)


def _corpus(n=600, seed=0):
    """Words of one group share their contexts: 'good' and 'great' are used alike, and so are 'bad' and 'awful'."""
    rng = random.Random(seed)
    groups = [["good", "great", "fine"], ["bad", "awful", "poor"], ["flight", "plane", "gate"]]
    contexts = [["very", "really", "so"], ["not", "never", "hardly"], ["the", "my", "our"]]
    texts = []
    for _ in range(n):
        g = rng.randrange(3)
        texts.append(" ".join([rng.choice(contexts[g]), rng.choice(groups[g]), rng.choice(contexts[g])]))
    return texts


def test_words_used_alike_get_near_vectors():
    vectors = build(_corpus(), SMALL)
    assert set(vectors.nearest("good", 2)) == {"great", "fine"}
    assert set(vectors.nearest("awful", 2)) == {"bad", "poor"}


def test_save_load_round_trip_without_pickle(tmp_path):
    vectors = build(_corpus(), SMALL)
    loaded = WordVectors.load(vectors.save(tmp_path / "v.npz"))
    assert loaded.tokens == vectors.tokens and np.array_equal(loaded.vectors, vectors.vectors)
    with pytest.raises(FileNotFoundError, match="sentiment embeddings"):
        WordVectors.load(tmp_path / "missing.npz")


def test_initialise_copies_known_words_and_extends_the_vocabulary():
    vectors = WordVectors(["good", "bad", "unseen"], np.eye(3, 4, dtype=np.float32))
    vocab = vocabulary_with(Vocab(["<pad>", "<unk>", "good", "flight"]), vectors, max_size=10)
    assert vocab.itos == ["<pad>", "<unk>", "good", "flight", "bad", "unseen"]
    embedding = torch.nn.Embedding(len(vocab), 4, padding_idx=0)
    before = embedding.weight.detach().clone()
    assert initialise(embedding, vocab, vectors) == 3
    w = embedding.weight.detach()
    assert torch.equal(w[3], before[3])  # "flight" has no vector: left as initialised
    assert w[2].argmax() == 0 and w[4].argmax() == 1 and w[5].argmax() == 2
    with pytest.raises(ValueError, match="embed_dim to 4"):
        initialise(torch.nn.Embedding(len(vocab), 6), vocab, vectors)


def test_pretraining_files_never_read_a_test_split(tmp_path):
    for name, files in {"a": ["train", "validation", "test", "all"], "b": ["validation", "test"], "c": ["all"]}.items():
        (tmp_path / name).mkdir()
        for f in files:
            pq.write_table(pa.table({"text": ["x"]}), tmp_path / name / f"{f}.parquet")
    names = [f"{p.parent.name}/{p.name}" for p in pretraining_files(tmp_path)]
    assert names == ["a/train.parquet", "b/validation.parquet", "c/all.parquet"]


def test_training_from_pretrained_vectors(labelled_dir, tmp_path):
    from sentiment_model import checkpoint
    from sentiment_model.train import TrainConfig, train
    from tests.factories import TINY_TRAIN, labelled_rows

    texts = [r["text"] for r in labelled_rows(300, seed=9)] + ["wonderful great love"] * 5
    vectors = build(texts, EmbeddingConfig(dim=24, window=2, min_count=1)).save(tmp_path / "v.npz")
    out = train(TrainConfig(data=labelled_dir, out=tmp_path / "m", embeddings=vectors, **{**TINY_TRAIN, "epochs": 2}))
    bundle = checkpoint.load(out)
    assert "wonderful" in bundle.vocab.stoi  # only in the unlabelled text, yet it has a row


def test_auto_vectors_are_built_once_and_cached(tmp_path):
    from sentiment_model.corpus import resolve_embeddings

    data = tmp_path / "data"
    (data / "news").mkdir(parents=True)
    pq.write_table(pa.table({"text": _corpus(900)}), data / "news" / "all.parquet")
    first = resolve_embeddings("auto", data, tmp_path / "cache", dim=4)
    assert first is not None and first.is_file()
    mtime = first.stat().st_mtime_ns
    assert resolve_embeddings("auto", data, tmp_path / "cache", dim=4) == first and first.stat().st_mtime_ns == mtime
    # a copy of the same data with new modification times reuses the vectors; other bytes do not
    os.utime(data / "news" / "all.parquet", ns=(1, 1))
    assert resolve_embeddings("auto", data, tmp_path / "cache", dim=4) == first
    pq.write_table(pa.table({"text": _corpus(901)}), data / "news" / "all.parquet")
    assert resolve_embeddings("auto", data, tmp_path / "cache", dim=4) != first
    assert resolve_embeddings("none", data, tmp_path / "cache", dim=4) is None
    assert resolve_embeddings("auto", tmp_path / "missing", tmp_path / "cache", dim=4) is None
    # too little text for vectors this size: training goes on from random vectors
    assert resolve_embeddings("auto", data, tmp_path / "cache", dim=64) is None
