"""Train the LSTM classifier on `train.parquet`, keep the best epoch on `validation.parquet`."""

from __future__ import annotations

import copy
import logging
import random
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from sentiment_model import checkpoint
from sentiment_model.data import bucketed_batches, encode, pad_batch, read_labelled
from sentiment_model.evaluate import metrics
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.predict import Predictor
from sentiment_model.tokenize import tokenize
from sentiment_model.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: Path  # a directory with train.parquet and validation.parquet (text, label)
    out: Path  # where the model directory is written
    epochs: int = 6  # passes over the training data; the best validation epoch is kept
    batch_size: int = 64  # documents per step
    lr: float = 2e-3  # Adam learning rate
    weight_decay: float = 0.0  # L2 penalty in Adam
    max_tokens: int = 128  # texts are cut to this many tokens
    min_freq: int = 2  # tokens seen fewer times become <unk>
    max_vocab: int = 30000  # vocabulary size cap
    embed_dim: int = 128  # see ModelConfig
    hidden_dim: int = 128  # see ModelConfig
    num_layers: int = 1  # see ModelConfig
    dropout: float = 0.4  # see ModelConfig
    pooling: str = "max_mean"  # see ModelConfig
    class_weights: bool = False  # weight the loss by inverse class frequency (skewed labels)
    select_metric: str = "macro_f1"  # validation metric that picks the best epoch
    seed: int = 13  # for shuffling and initialisation
    device: str = "auto"  # "auto" (cuda when available), "cpu" or "cuda"
    max_train_samples: int | None = None  # cap the training rows, for quick runs
    threads: int | None = None  # torch intra-op threads on CPU; None: torch's default

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        if self.epochs < 1 or self.batch_size < 1 or self.max_tokens < 1:
            raise ValueError("epochs, batch_size and max_tokens must be positive")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device=cuda but no CUDA device is available; use --device auto or cpu")
        if self.select_metric not in ("accuracy", "macro_f1", "macro_recall"):
            raise ValueError("select_metric must be accuracy, macro_f1 or macro_recall")

    def resolved_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def model_config(self, vocab_size: int, num_classes: int) -> ModelConfig:
        names = {f.name for f in fields(ModelConfig)}
        return ModelConfig(
            vocab_size=vocab_size,
            num_classes=num_classes,
            **{k: v for k, v in asdict(self).items() if k in names},
        )


def train(cfg: TrainConfig) -> Path:
    """Train, select the best epoch on validation, save to `cfg.out`; returns that directory."""
    started = time.perf_counter()
    _seed_everything(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = cfg.resolved_device()
    train_data = read_labelled(cfg.data / "train.parquet", cfg.max_train_samples)
    valid_data = read_labelled(cfg.data / "validation.parquet")
    labels = sorted(set(train_data.labels))
    if len(labels) < 2:
        raise ValueError(f"{cfg.data}/train.parquet has fewer than two labels: {labels}")
    vocab = Vocab.build((tokenize(t) for t in train_data.texts), cfg.min_freq, cfg.max_vocab)
    label_id = {label: i for i, label in enumerate(labels)}
    ids = encode(train_data.texts, vocab, cfg.max_tokens)
    targets = torch.tensor([label_id[label] for label in train_data.labels])
    model = LSTMClassifier(cfg.model_config(len(vocab), len(labels))).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    loss_fn = nn.CrossEntropyLoss(weight=_class_weights(targets, len(labels)) if cfg.class_weights else None)
    loss_fn.to(device)
    log.info(
        "training on %d documents (%s), vocabulary %d, labels %s, device %s",
        len(ids), cfg.data, len(vocab), labels, device,
    )
    bundle = checkpoint.ModelBundle(model, model.config, vocab, labels, cfg.max_tokens, version="")
    best_score, best_state, best_metrics, history = -1.0, None, {}, []
    for epoch in range(1, cfg.epochs + 1):
        loss = _run_epoch(model, optimiser, loss_fn, ids, targets, cfg, epoch, device)
        scores = _validate(Predictor(bundle, device), valid_data, labels)
        history.append({"epoch": epoch, "train_loss": loss, **scores})
        log.info("epoch %d: loss %.4f, validation %s", epoch, loss, _fmt(scores))
        if scores[cfg.select_metric] > best_score:
            best_score, best_state, best_metrics = scores[cfg.select_metric], copy.deepcopy(model.state_dict()), scores
    model.load_state_dict(best_state)
    model.cpu().eval()
    bundle.version = checkpoint.new_version(model)
    bundle.metrics = {"validation": best_metrics}
    seconds = time.perf_counter() - started
    extra = {
        "train_config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "history": history,
        "train_seconds": round(seconds, 1),
        "device": device,
    }
    checkpoint.save(cfg.out, bundle, extra)
    log.info("saved model %s to %s in %.0f s", bundle.version, cfg.out, seconds)
    return cfg.out


def _run_epoch(model, optimiser, loss_fn, ids, targets, cfg: TrainConfig, epoch: int, device: str) -> float:
    model.train()
    total, count = 0.0, 0
    batches = list(bucketed_batches([len(s) for s in ids], cfg.batch_size, True, cfg.seed + epoch))
    for batch in tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=False, disable=None):
        tokens, lengths = pad_batch([ids[i] for i in batch])
        logits = model(tokens.to(device), lengths)
        loss = loss_fn(logits, targets[batch].to(device))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        total += loss.item() * len(batch)
        count += len(batch)
    return total / max(count, 1)


def _validate(predictor: Predictor, data, labels: list[str]) -> dict:
    predicted = [row["label"] for row in predictor.predict(data.texts)]
    return metrics(data.labels, predicted, labels)


def _class_weights(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    counts = torch.bincount(targets, minlength=num_classes).float().clamp(min=1)
    return counts.sum() / (num_classes * counts)


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _fmt(scores: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if k != "n")
