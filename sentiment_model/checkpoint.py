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

from sentiment.files import sha256_file
from sentiment.storage import location
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.vocab import Vocab

WEIGHTS = "weights.pt"
META = "model.json"
VOCAB = "vocab.json"
FILES = (META, WEIGHTS, VOCAB)


@dataclass
class ModelBundle:
    model: LSTMClassifier
    config: ModelConfig
    vocab: Vocab
    labels: list[str]
    max_tokens: int  # texts are cut to this many tokens before the model sees them
    version: str
    metrics: dict = field(default_factory=dict)
    temperature: float = 1.0  # logits are divided by this before the softmax (fitted on validation)


def save(directory: Path, bundle: ModelBundle, extra: dict | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in bundle.model.state_dict().items()}
    torch.save(state, directory / WEIGHTS)
    bundle.vocab.save(directory / VOCAB)
    meta = {
        "version": bundle.version,
        "sha256": {name: sha256_file(directory / name) for name in (WEIGHTS, VOCAB)},
        "model_config": bundle.config.to_dict(),
        "labels": bundle.labels,
        "max_tokens": bundle.max_tokens,
        "temperature": bundle.temperature,
        "metrics": bundle.metrics,
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **(extra or {}),
    }
    (directory / META).write_text(json.dumps(meta, indent=2))
    return directory


def read_meta(directory: Path) -> dict:
    path = location(directory) / META
    if not path.is_file():
        raise FileNotFoundError(f"{directory} is not a model directory (no {META}); train one with `sentiment train`")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}); restore it or retrain the model") from None


def load(directory: Path, device: str = "cpu") -> ModelBundle:
    """The model in `directory`; a clear error when its files were changed or do not belong together."""
    directory = Path(directory)
    meta = read_meta(directory)
    _verify_files(directory, meta)
    config = ModelConfig(**meta["model_config"])
    model = LSTMClassifier(config)
    state = _load_state(directory, device)
    try:
        model.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if len(str(err).splitlines()) > 1 else str(err)
        raise ValueError(
            f"{directory}/{WEIGHTS} does not fit the model in {META} ({first}); the files come from different "
            "models: retrain or restore them"
        ) from None
    model.to(device).eval()
    return ModelBundle(
        model=model,
        config=config,
        vocab=Vocab.load(directory / VOCAB),
        labels=list(meta["labels"]),
        max_tokens=int(meta["max_tokens"]),
        version=meta["version"],
        metrics=meta.get("metrics", {}),
        temperature=float(meta.get("temperature", 1.0)),
    )


def _verify_files(directory: Path, meta: dict) -> None:
    for name in (WEIGHTS, VOCAB):
        if not (directory / name).is_file():
            raise FileNotFoundError(f"{directory} lacks {name}: the model directory is incomplete")
    for name, expected in meta.get("sha256", {}).items():
        if sha256_file(directory / name) != expected:
            raise ValueError(
                f"{directory}/{name} was changed after the model was saved (its SHA-256 differs from {META}); "
                "restore the file or retrain the model"
            )


def _load_state(directory: Path, device: str = "cpu") -> dict:
    """The state_dict, loaded weights-only: pickled code in the file is refused, never run."""
    try:
        state = torch.load(directory / WEIGHTS, map_location=device, weights_only=True)
    except Exception as err:  # torch raises UnpicklingError, RuntimeError or EOFError depending on the damage
        raise ValueError(
            f"{directory}/{WEIGHTS} is not a plain state_dict "
            f"({type(err).__name__}: {str(err).splitlines()[0][:160]}); "
            "it is damaged or not one of our models: restore it or retrain"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{directory}/{WEIGHTS} is not a state_dict of tensors; restore it or retrain")
    return state


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
    _verify_files(directory, meta)
    config = ModelConfig(**meta["model_config"])
    state = _load_state(directory)
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
