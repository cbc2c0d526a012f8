"""Word vectors pretrained on unlabelled text: PPMI of windowed co-occurrences, factorised by SVD.

No pretrained vectors can be downloaded here, but we have plenty of text (every
dataset's texts, the news headlines, whatever the warehouse has ingested). Counting
co-occurrences within a window, weighting them by positive pointwise mutual
information (context counts smoothed by ^0.75) and keeping the top singular vectors
gives word vectors about as good as word2vec's on similarity tasks (Levy, Goldberg &
Dagan 2015), in minutes on a CPU and with no extra dependency.

Saved as one .npz: `tokens` (strings) and `vectors` [V, dim] float32.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.utils.extmath import randomized_svd

from sentiment_model.tokenize import tokenize
from sentiment_model.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddingConfig:
    dim: int = 128  # vector size; must equal the model's embed_dim to initialise it
    window: int = 5  # words either side that count as context
    min_count: int = 3  # rarer words get no vector
    max_words: int = 60000  # the most frequent words kept
    context_power: float = 0.75  # smoothing of the context distribution in PMI
    max_tokens_per_text: int = 400  # long texts are cut (reviews): enough context, bounded cost


@dataclass
class WordVectors:
    tokens: list[str]
    vectors: np.ndarray  # [V, dim] float32

    def save(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, tokens=np.array(self.tokens), vectors=self.vectors)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> WordVectors:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"word vectors not found: {path}; build them with `sentiment embeddings`")
        with np.load(path, allow_pickle=False) as data:
            return cls([str(t) for t in data["tokens"]], data["vectors"].astype(np.float32))

    def nearest(self, word: str, k: int = 5) -> list[str]:
        index = {t: i for i, t in enumerate(self.tokens)}
        if word not in index:
            return []
        unit = self.vectors / np.maximum(np.linalg.norm(self.vectors, axis=1, keepdims=True), 1e-8)
        sims = unit @ unit[index[word]]
        return [self.tokens[i] for i in np.argsort(-sims)[1 : k + 1]]


def build(texts: Iterable[str], cfg: EmbeddingConfig = EmbeddingConfig()) -> WordVectors:
    """Vectors for the frequent words of `texts`."""
    docs = [tokenize(t, cfg.max_tokens_per_text)[: cfg.max_tokens_per_text] for t in texts]
    counts = Counter(tok for doc in docs for tok in doc)
    words = [w for w, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c >= cfg.min_count]
    words = words[: cfg.max_words]
    index = {w: i for i, w in enumerate(words)}
    size = len(words)
    if size < cfg.dim + 1:
        raise ValueError(f"only {size} words occur {cfg.min_count}+ times; give more text or a smaller dim")
    log.info("word vectors: %d texts, %d tokens, %d words", len(docs), sum(map(len, docs)), size)
    cooc = _cooccurrences(docs, index, cfg.window)
    ppmi = _ppmi(cooc, cfg.context_power)
    u, s, _ = randomized_svd(ppmi, n_components=cfg.dim, n_iter=5, random_state=0)
    vectors = (u * np.sqrt(s)).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)  # unit length, then rescaled below
    return WordVectors(words, vectors)


def _cooccurrences(docs: list[list[str]], index: dict[str, int], window: int) -> sp.csr_matrix:
    size = len(index)
    total = sp.csr_matrix((size, size), dtype=np.float32)
    rows, cols, weights = [], [], []
    pending = 0
    for doc in docs:
        ids = np.fromiter((index.get(t, -1) for t in doc), dtype=np.int64, count=len(doc))
        ids = ids[ids >= 0]
        for offset in range(1, window + 1):
            if len(ids) <= offset:
                break
            a, b = ids[:-offset], ids[offset:]
            w = np.full(len(a), 1.0 / offset, dtype=np.float32)  # nearer words count more
            rows += [a, b]
            cols += [b, a]
            weights += [w, w]
            pending += 2 * len(a)
        if pending > 20_000_000:
            total = total + _coo(rows, cols, weights, size)
            rows, cols, weights, pending = [], [], [], 0
    if rows:
        total = total + _coo(rows, cols, weights, size)
    return total


def _coo(rows, cols, weights, size) -> sp.csr_matrix:
    return sp.coo_matrix(
        (np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    ).tocsr()


def _ppmi(cooc: sp.csr_matrix, power: float) -> sp.csr_matrix:
    cooc = cooc.tocoo()
    total = cooc.sum()
    word = np.asarray(cooc.sum(axis=1)).ravel()
    context = np.asarray(cooc.sum(axis=0)).ravel() ** power
    context /= context.sum()
    pmi = np.log(cooc.data * 1.0 / total) - np.log(word[cooc.row] / total) - np.log(context[cooc.col])
    keep = pmi > 0
    return sp.csr_matrix((pmi[keep].astype(np.float32), (cooc.row[keep], cooc.col[keep])), shape=cooc.shape)


def initialise(embedding: torch.nn.Embedding, vocab: Vocab, vectors: WordVectors) -> int:
    """Copy the vectors of the vocabulary's words into `embedding`, scaled to its init's spread; returns hits."""
    if vectors.vectors.shape[1] != embedding.embedding_dim:
        raise ValueError(
            f"the word vectors have {vectors.vectors.shape[1]} dimensions and the model's embedding "
            f"{embedding.embedding_dim}; set embed_dim to {vectors.vectors.shape[1]}"
        )
    index = {t: i for i, t in enumerate(vectors.tokens)}
    hits = [(i, index[t]) for i, t in enumerate(vocab.itos) if t in index]
    if not hits:
        return 0
    rows = torch.tensor([h[0] for h in hits])
    source = torch.from_numpy(vectors.vectors[[h[1] for h in hits]])
    with torch.no_grad():
        scale = embedding.weight.std() / source.std().clamp(min=1e-8)
        embedding.weight[rows] = source * scale
    return len(hits)


def vocabulary_with(vocab: Vocab, vectors: WordVectors | list[str], max_size: int) -> Vocab:
    """`vocab` extended with pretrained words it lacks (most frequent first) up to `max_size`:
    words never seen in training still get a meaningful vector. `vectors` may be a word list."""
    known = set(vocab.itos)
    tokens = vectors.tokens if isinstance(vectors, WordVectors) else vectors
    extra = [t for t in tokens if t not in known][: max(0, max_size - len(vocab))]
    return Vocab([*vocab.itos, *extra])
