"""Checkpoints: the state_dict, the configuration and the vocabulary, never a pickled module.

A model directory holds `weights.pt` (a plain state_dict, loaded with
weights_only=True), `model.json` (model config, labels, tokenizer settings,
version, metrics) and `vocab.json`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import torch

from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.vocab import Vocab

WEIGHTS = "weights.pt"
META = "model.json"
VOCAB = "vocab.json"


@dataclass
class ModelBundle:
    model: LSTMClassifier
    config: ModelConfig
    vocab: Vocab
    labels: list[str]
    max_tokens: int  # texts are cut to this many tokens before the model sees them
    version: str
    metrics: dict = field(default_factory=dict)


def save(directory: Path, bundle: ModelBundle, extra: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in bundle.model.state_dict().items()}
    torch.save(state, directory / WEIGHTS)
    bundle.vocab.save(directory / VOCAB)
    meta = {
        "version": bundle.version,
        "model_config": bundle.config.to_dict(),
        "labels": bundle.labels,
        "max_tokens": bundle.max_tokens,
        "metrics": bundle.metrics,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    (directory / META).write_text(json.dumps(meta, indent=2))
    return directory


def read_meta(directory: Path) -> dict:
    path = Path(directory) / META
    if not path.is_file():
        raise FileNotFoundError(
            f"{directory} is not a model directory (no {META}); train one with `sentiment train`"
        )
    return json.loads(path.read_text())


def load(directory: Path, device: str = "cpu") -> ModelBundle:
    directory = Path(directory)
    meta = read_meta(directory)
    config = ModelConfig(**meta["model_config"])
    model = LSTMClassifier(config)
    state = torch.load(directory / WEIGHTS, map_location=device, weights_only=True)
    model.load_state_dict(state)
    model.to(device).eval()
    return ModelBundle(
        model=model,
        config=config,
        vocab=Vocab.load(directory / VOCAB),
        labels=list(meta["labels"]),
        max_tokens=int(meta["max_tokens"]),
        version=meta["version"],
        metrics=meta.get("metrics", {}),
    )


def new_version(model: LSTMClassifier) -> str:
    """A sortable version: UTC time plus a short hash of the weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().numpy().tobytes())
    return f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{digest.hexdigest()[:8]}"


def check(directory: Path) -> None:
    """Raise a clear error when the weights, config, vocabulary and labels do not fit together."""
    directory = Path(directory)
    meta = read_meta(directory)
    for name in (WEIGHTS, VOCAB):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory} lacks {name}: the model directory is incomplete")
    config = ModelConfig(**meta["model_config"])
    state = torch.load(directory / WEIGHTS, map_location="cpu", weights_only=True)
    vocab_size = len(Vocab.load(directory / VOCAB))
    rows = state["embedding.weight"].shape[0]
    classes = state["head.weight"].shape[0]
    if not vocab_size == config.vocab_size == rows:
        raise ValueError(
            f"{directory}: vocabulary has {vocab_size} tokens, config says {config.vocab_size}, "
            f"weights have {rows} embedding rows; the files come from different models: retrain or restore them"
        )
    if not len(meta["labels"]) == config.num_classes == classes:
        raise ValueError(
            f"{directory}: {len(meta['labels'])} labels {meta['labels']}, config says {config.num_classes} "
            f"classes, weights have {classes} outputs; the files come from different models"
        )
