"""The model folded for scoring on the CPU: the same function, half the arithmetic per token.

An LSTM step computes W_ih·x_t + b_ih + W_hh·h_{t-1} + b_hh for its four gates. Here x_t is a
row of the embedding table, so W_ih·x_t + b_ih + b_hh depends only on the word: it is computed
once per vocabulary word (in float64, then kept as float32) into a gate table [vocab, 4H] per
direction. Scoring then gathers a row per token and runs only the recurrence W_hh·h_{t-1}:
(128 + 128) x 512 multiply-adds per token and direction become 128 x 512.

The recurrence runs packed, as PyTorch's packed sequences do: documents sorted longest first,
step t updates only the documents longer than t (a prefix of the rows), so padding costs nothing
and a sub-batch can hold many documents. The step loop is TorchScript (few, fused-ish ops per
step on PyTorch's vectorized kernels); pooling and the head are the model's own.

The table is derived from the checkpoint (named by its weights' SHA-256), cached as a raw float32
file that worker processes map read-only (one copy in memory for all of them), and checked
against the model on random batches before use; checkpoints stay state_dict + config + vocab.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from sentiment.storage import fetch_file, is_remote, location, uri
from sentiment_model import checkpoint
from sentiment_model.model import LSTMClassifier

log = logging.getLogger(__name__)
TOLERANCE = 1e-4  # largest logit difference accepted against the PyTorch model (seen: ~1e-6)


def foldable(config) -> bool:
    """Only a single LSTM layer reads embedding rows directly (a second layer reads states)."""
    return config.num_layers == 1


def _gate_order(hidden: int) -> torch.Tensor:
    """PyTorch stores gates as i, f, g, o; keep them as i, f, o, g so one sigmoid covers three."""
    i, f, g, o = (torch.arange(k * hidden, (k + 1) * hidden) for k in range(4))
    return torch.cat([i, f, o, g])


def _directions(config) -> tuple[str, ...]:
    return ("", "_reverse") if config.bidirectional else ("",)


def gate_table(model: LSTMClassifier) -> np.ndarray:
    """[directions, vocab, 4H] float32: embedding row · W_ih^T + b_ih + b_hh, gates as i, f, o, g."""
    lstm, order = model.lstm, _gate_order(model.config.hidden_dim)
    embedding = model.embedding.weight.detach().double()
    tables = []
    for suffix in _directions(model.config):
        weight = getattr(lstm, f"weight_ih_l0{suffix}").detach().double()
        bias = (getattr(lstm, f"bias_ih_l0{suffix}") + getattr(lstm, f"bias_hh_l0{suffix}")).detach().double()
        tables.append((embedding @ weight.T + bias)[:, order].float().numpy())
    return np.stack(tables)


def recurrence(
    table: torch.Tensor,
    ids: torch.Tensor,
    offsets: list[int],
    sizes: list[int],
    weight: torch.Tensor,
    rows: int,
    reverse: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One direction over packed ids (time-major; step t holds the `sizes[t]` longest documents,
    from `offsets[t]`): the running max, the sum and the last hidden state of each document."""
    hidden = weight.shape[0]
    rows = max(rows, 2)
    h = torch.zeros(rows, hidden)
    c = torch.zeros(rows, hidden)
    top = torch.full((rows, hidden), float("-inf"))
    total = torch.zeros(rows, hidden)
    steps = len(sizes)
    for s in range(steps):
        t = steps - 1 - s if reverse else s
        n, start = sizes[t], offsets[t]
        gates = torch.index_select(table, 0, ids[start : start + n])
        if n == 1:  # a one-row product takes another code path (other rounding): run two rows
            gates = torch.cat([gates, gates])
            gates.addmm_(h[:2], weight)
            gates = gates[:1]
        else:
            gates.addmm_(h[:n], weight)
        ifo = gates[:, : 3 * hidden].sigmoid_()
        g = gates[:, 3 * hidden :].tanh_()
        cn = c[:n]
        cn.mul_(ifo[:, hidden : 2 * hidden]).addcmul_(ifo[:, :hidden], g)
        hn = h[:n]
        torch.mul(ifo[:, 2 * hidden :], cn.tanh(), out=hn)
        tn = top[:n]
        torch.maximum(tn, hn, out=tn)
        total[:n].add_(hn)
    return top, total, h


with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # TorchScript's deprecation notice: it still runs the loop fastest here
    _recurrence = torch.jit.script(recurrence)


class FoldedModel:
    """Callable like the model: logits [B, classes] for padded token ids [B, T] and their lengths."""

    packed = True  # padding is never computed: the whole batch can go in one call

    def __init__(self, model: LSTMClassifier, table: np.ndarray):
        config = model.config
        if not foldable(config):
            raise ValueError(f"only a one-layer LSTM folds (this model has {config.num_layers}); use --backend onnx")
        order = _gate_order(config.hidden_dim)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a read-only mapped table: it is only ever read
            self.tables = [torch.from_numpy(table[d]) for d in range(table.shape[0])]
        self.weights = [
            getattr(model.lstm, f"weight_hh_l0{suffix}").detach()[order].T.contiguous()
            for suffix in _directions(config)
        ]
        self.head = model.head.eval().requires_grad_(False)
        self.config = config

    @torch.no_grad()
    def __call__(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        lengths = lengths.clamp(min=1)
        order = torch.argsort(lengths, descending=True, stable=True)
        tokens, lengths = tokens[order], lengths[order]
        steps = int(lengths[0])
        positions = torch.arange(steps)
        sizes = (lengths[None, :] > positions[:, None]).sum(dim=1)  # documents still going at each step
        ids = tokens[:, :steps].T[positions[:, None] < lengths[None, :]]  # time-major, packed
        offsets = (torch.cumsum(sizes, 0) - sizes).tolist()
        sizes = sizes.tolist()
        outs = [
            _recurrence(table, ids, offsets, sizes, weight, len(lengths), reverse=d == 1)
            for d, (table, weight) in enumerate(zip(self.tables, self.weights, strict=True))
        ]
        pooled = self._pool(outs, lengths)
        logits = torch.empty(len(lengths), self.config.num_classes)
        # the head as a sum of products per row: a matrix product's rounding can depend on how many
        # rows it has (fewer than 16 here), and a document's scores must not depend on its batch
        logits[order] = (pooled.unsqueeze(1) * self.head.weight).sum(dim=-1) + self.head.bias
        return logits

    def _pool(self, outs, lengths: torch.Tensor) -> torch.Tensor:
        mode, rows = self.config.pooling, len(lengths)
        if mode == "last":  # forward: the state after the last token; backward: after the first
            return torch.cat([h[:rows] for _, _, h in outs], dim=-1)
        top = torch.cat([m[:rows] for m, _, _ in outs], dim=-1)
        mean = torch.cat([s[:rows] for _, s, _ in outs], dim=-1) / lengths[:, None].float()
        return {"max": top, "mean": mean}.get(mode, torch.cat([top, mean], dim=-1))


def load(model_dir: Path | str, cache: Path | str | None = None) -> FoldedModel:
    """The folded model of the checkpoint in `model_dir` (local, or in object storage: copied to
    local disk once); its gate table is read from (or written to) `cache`, a local directory
    (default: the system's temporary directory)."""
    if is_remote(model_dir):
        remote = uri(location(model_dir))
        model_dir = [fetch_file(f"{remote}/{name}") for name in checkpoint.FILES][0].parent
    model_dir = Path(model_dir)
    bundle = checkpoint.load(model_dir, "cpu")
    model = bundle.model.eval()
    digest = checkpoint.read_meta(model_dir)["sha256"][checkpoint.WEIGHTS][:16]
    cache = Path(cache) if cache else Path(tempfile.gettempdir()) / "sentiment-folded"
    path = cache / f"gates-{digest}.npy"
    if not path.exists():
        _write(path, gate_table(model))
    folded = FoldedModel(model, np.load(path, mmap_mode="r"))  # one copy for every process on this machine
    check(model, folded)  # a few milliseconds; a damaged cached table is caught here
    return folded


def _write(path: Path, table: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".gates-", suffix=".npy", dir=path.parent)
    os.close(fd)
    try:
        np.save(scratch, table)
        os.replace(scratch, path)
    finally:
        Path(scratch).unlink(missing_ok=True)
    log.info("folded the model's input weights into a gate table: %s", path)


def check(model: LSTMClassifier, folded: FoldedModel) -> None:
    """Raise unless the folded model gives the model's logits (within TOLERANCE) on random mixed-length batches."""
    generator = torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    with torch.no_grad():
        for batch, width in ((1, 1), (7, 23), (32, 64)):
            lengths = torch.randint(1, width + 1, (batch,), generator=generator)
            lengths[0] = width
            tokens = torch.randint(2, vocab, (batch, width), generator=generator)
            tokens[torch.arange(width)[None, :] >= lengths[:, None]] = 0
            worst = float((model(tokens, lengths) - folded(tokens, lengths)).abs().max())
            if worst > TOLERANCE:
                raise RuntimeError(
                    f"the folded model differs from the model by {worst:.2e} (> {TOLERANCE}); score with --backend onnx"
                )
