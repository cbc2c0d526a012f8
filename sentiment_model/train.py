"""Train the LSTM classifier; keep the best epoch on validation macro-F1, stop early, resume after a crash.

AdamW with linear warm-up and decay, gradient clipping, length-bucketed packed
batches, optional class weights; bf16 autocast and cuDNN's LSTM on CUDA. Each
epoch's dropout and batch order come from `seed + epoch`, so a run resumed from
`train_state.pt` ends with the same weights as one that never stopped.
"""

from __future__ import annotations

import json
import logging
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

import pyarrow.parquet as pq
import torch
from torch import nn
from tqdm.auto import tqdm

from sentiment_model import checkpoint, pretrain, recipes
from sentiment_model.calibrate import expected_calibration_error, fit_temperature
from sentiment_model.card import write_card
from sentiment_model.data import bucketed_batches, load_splits, pad_batch
from sentiment_model.embeddings import WordVectors, initialise, vocabulary_with
from sentiment_model.evaluate import decide, metrics
from sentiment_model.languages import reads, training_languages
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.predict import Predictor
from sentiment_model.tokenize import tokenize
from sentiment_model.vocab import PAD_ID, UNK_ID, Vocab

log = logging.getLogger(__name__)
STATE = "train_state.pt"  # written after every epoch, removed when training ends


DEFAULT_VOCAB = 30000  # the vocabulary cap where the recipe names none


@dataclass
class TrainConfig:
    data: Path  # a directory with train.parquet (+ validation.parquet), or one Parquet file (text, label)
    out: Path  # where the model directory is written
    recipe: str = "auto"  # fills the settings left unset: auto (by data size and text length), short, small, long
    epochs: int | None = None  # most passes over the training data (recipe: 6-20)
    patience: int | None = None  # stop after this many epochs without a better validation score (recipe)
    batch_size: int | None = None  # documents per step (recipe: 32-64)
    lr: float | None = None  # peak AdamW learning rate (recipe: 2e-3)
    warmup: float = 0.05  # share of the steps spent warming the learning rate up, then linear decay to 0
    weight_decay: float = 0.01  # AdamW's decoupled weight decay
    clip_norm: float = 1.0  # gradients are clipped to this norm
    max_tokens: int | None = None  # texts are cut to this many tokens (recipe: 128 short, 400 long)
    read_tokens: int | None = None  # the saved model reads this many at inference (None: max_tokens); a model
    # trained on 128-token cuts still reads a whole review better than its first 128 tokens (recipe: general 400)
    min_freq: int = 2  # tokens seen fewer times become <unk>
    max_vocab: int | None = None  # vocabulary size cap (None: the recipe's, else 30,000)
    pieces: int = 0  # word pieces learnt from the words too rare for the vocabulary, which read any word
    # outside it by its parts (sentiment_model.vocab); 0: such words are <unk>
    embeddings: Path | str | None = None  # word vectors (.npz) to start from; None/"none": random init;
    # "auto" is for callers, who resolve it with sentiment_model.corpus.resolve_embeddings
    pretrained: Path | str | None = None  # a pretrained language model (`sentiment pretrain`, .pt) whose LSTM and
    # embedding the classifier starts from; None/"none": not used; "auto" is resolved by callers (pretrain.cached)
    embed_dim: int = 128  # see ModelConfig
    hidden_dim: int = 128  # see ModelConfig
    num_layers: int = 1  # see ModelConfig
    dropout: float | None = None  # see ModelConfig (recipe: 0.5)
    pooling: str = "max_mean"  # see ModelConfig
    word_dropout: float = 0.0  # share of training tokens read as <unk> each step: no single word carries a label
    class_weights: bool = False  # weight the loss by inverse class frequency (skewed labels)
    source_labels: bool = True  # with a `source` column: each row's loss decides among its source's labels only
    select_metric: str = "macro_f1"  # validation metric that picks the best epoch and drives early stopping
    validation_fraction: float = 0.1  # held out of train (stratified) when there is no validation.parquet
    seed: int = 13  # for the holdout, shuffling, initialisation and dropout
    device: str = "auto"  # "auto" (cuda when available), "cpu" or "cuda"
    amp: bool = True  # bf16 autocast on CUDA (ignored on the CPU)
    resume: bool = False  # continue from OUT/train_state.pt when it is there
    max_train_samples: int | None = None  # cap the training rows, for quick runs
    threads: int | None = None  # torch intra-op threads on CPU; None: torch's default
    # The languages the model reads (ISO 639-1), stated in model.json; scoring skips the others.
    # None: those of the training data (its `lang` column, else identified on a sample of its texts).
    languages: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.data, self.out = Path(self.data), Path(self.out)
        if self.languages is not None:
            self.languages = (
                tuple(self.languages)
                if not isinstance(self.languages, str)
                else tuple(code.strip() for code in self.languages.split(",") if code.strip())
            )
        if self.embeddings is not None and str(self.embeddings) not in ("auto", "none"):
            self.embeddings = Path(self.embeddings)
        if self.pretrained is not None and str(self.pretrained) not in ("auto", "none"):
            self.pretrained = Path(self.pretrained)
        if not 0.0 <= self.word_dropout < 1.0:
            raise ValueError(f"word_dropout must be in [0, 1), not {self.word_dropout}")
        if self.pieces < 0:
            raise ValueError(f"pieces must be 0 or more, not {self.pieces}")
        for name in ("epochs", "batch_size", "max_tokens", "patience", "read_tokens"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be positive, not {value}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be auto, cpu or cuda, not {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device=cuda but no CUDA device is available; use --device auto or cpu")
        if self.select_metric not in ("accuracy", "macro_f1", "macro_recall"):
            raise ValueError("select_metric must be accuracy, macro_f1 or macro_recall")
        if self.recipe != "auto":
            recipes.settings(self.recipe)  # unknown names fail here, before any work

    @classmethod
    def from_file(cls, path: Path, **overrides) -> TrainConfig:
        """Settings from a TOML file (TrainConfig's field names), then `overrides` that are not None."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"training config not found: {path}")
        values = tomllib.loads(path.read_text())
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {unknown}; known: {sorted(known)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def resolved_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def with_recipe(self, n_rows: int, lengths: list[int], sources: int = 1) -> TrainConfig:
        """A copy with every unset recipe field filled from the chosen (or named) recipe."""
        name = recipes.choose(n_rows, lengths, sources) if self.recipe == "auto" else self.recipe
        chosen = recipes.settings(name)
        filled = {k: v for k, v in chosen.items() if getattr(self, k) is None}
        if self.max_vocab is None and "max_vocab" not in chosen:
            filled["max_vocab"] = DEFAULT_VOCAB
        return replace(self, recipe=name, **filled)

    def model_config(self, vocab_size: int, num_classes: int) -> ModelConfig:
        names = {f.name for f in fields(ModelConfig)}
        return ModelConfig(
            vocab_size=vocab_size,
            num_classes=num_classes,
            **{k: v for k, v in asdict(self).items() if k in names},
        )


def train(cfg: TrainConfig, on_epoch: Callable[[dict], None] | None = None) -> Path:
    """Train, keep the best validation epoch, calibrate, save to `cfg.out`; returns that directory.

    `on_epoch` is called with each epoch's record (tests use it to interrupt a run).
    """
    started = time.perf_counter()
    splits = load_splits(cfg.data, cfg.validation_fraction, cfg.seed, cfg.max_train_samples)
    labels = sorted(set(splits.train.labels))
    if len(labels) < 2:
        raise ValueError(f"{cfg.data}: the training data has fewer than two labels: {labels}")
    unknown = sorted(set(splits.validation.labels) - set(labels))
    if unknown:
        raise ValueError(f"{splits.validation_source} has labels {unknown} that the training data lacks")
    tokenized = [tokenize(t) for t in splits.train.texts]
    cfg = cfg.with_recipe(len(tokenized), [len(t) for t in tokenized[:5000]], len(set(splits.train.sources or [1])))
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = cfg.resolved_device()
    torch.manual_seed(cfg.seed)
    vocab = Vocab.build(tokenized, cfg.min_freq, cfg.max_vocab, cfg.pieces)
    if cfg.embeddings == "auto":
        raise ValueError("embeddings='auto' must be resolved first: sentiment_model.corpus.resolve_embeddings")
    vectors = WordVectors.load(cfg.embeddings) if cfg.embeddings not in (None, "none") else None
    if vectors is not None:
        vocab = vocabulary_with(vocab, vectors, cfg.max_vocab)
    if str(cfg.pretrained) == "auto":
        raise ValueError("pretrained='auto' must be resolved first: sentiment_model.pretrain.cached")
    lm = pretrain.load(cfg.pretrained) if cfg.pretrained not in (None, "none") else None
    if lm is not None:
        vocab = vocabulary_with(vocab, lm["vocab"][2:], cfg.max_vocab)
    label_id = {label: i for i, label in enumerate(labels)}
    ids = [vocab.encode(tokens[: cfg.max_tokens])[: cfg.max_tokens] or [1] for tokens in tokenized]
    targets = torch.tensor([label_id[label] for label in splits.train.labels])
    source_labels = labels_by_source(splits.train)
    allowed = _allowed(splits.train, source_labels, labels) if cfg.source_labels else None
    model = LSTMClassifier(cfg.model_config(len(vocab), len(labels)))
    if vectors is not None:
        hits = initialise(model.embedding, vocab, vectors)
        log.info("embedding: %d of %d words start from %s", hits, len(vocab), cfg.embeddings)
    if lm is not None:
        hits = pretrain.start_from(model, vocab, lm)
        log.info("LSTM and %d of %d word vectors start from the language model %s", hits, len(vocab), cfg.pretrained)
    model.to(device)
    steps_per_epoch = -(-len(ids) // cfg.batch_size)
    optimiser = _optimiser(model, cfg)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, _warmup_linear(cfg.warmup, cfg.epochs * steps_per_epoch))
    loss_fn = nn.CrossEntropyLoss(weight=_class_weights(targets, len(labels)) if cfg.class_weights else None)
    loss_fn.to(device)
    log.info(
        "training on %d documents (%s; validation: %s), vocabulary %d, labels %s, recipe %s, device %s",
        len(ids),
        cfg.data,
        splits.validation_source,
        len(vocab),
        labels,
        cfg.recipe,
        device,
    )
    bundle = checkpoint.ModelBundle(model, model.config, vocab, labels, cfg.max_tokens, version="")
    state = _Progress(cfg.select_metric)
    if cfg.resume:
        state.restore(cfg, model, optimiser, scheduler)
    for epoch in range(state.epoch + 1, cfg.epochs + 1):
        torch.manual_seed(cfg.seed + epoch)
        t0 = time.perf_counter()
        loss, tokens = _run_epoch(model, optimiser, scheduler, loss_fn, ids, (targets, allowed), cfg, epoch, device)
        seconds = time.perf_counter() - t0
        scores = _validate(Predictor(bundle, device), splits.validation, labels, source_labels)
        record = {
            "epoch": epoch,
            "train_loss": loss,
            "lr": scheduler.get_last_lr()[0],
            "epoch_seconds": round(seconds, 2),
            "tokens_per_s": round(tokens / seconds),
            **scores,
        }
        state.add(record, model)
        log.info("epoch %d: loss %.4f, %d tokens/s, validation %s", epoch, loss, tokens / seconds, _fmt(scores))
        state.save(cfg, model, optimiser, scheduler)
        if on_epoch:
            on_epoch(record)
        if epoch - state.best_epoch >= cfg.patience and epoch < cfg.epochs:
            log.info("no better validation %s for %d epochs: stopping early", cfg.select_metric, cfg.patience)
            break
    model.load_state_dict(state.best_state)
    model.cpu().eval()
    logits = Predictor(bundle, "cpu").logits(splits.validation.texts)  # the best epoch's, for both below
    calibration = _calibrate(logits, splits.validation, label_id)
    bundle.temperature = calibration["temperature"]
    bundle.max_tokens = cfg.read_tokens or cfg.max_tokens
    bundle.version = checkpoint.new_version(model)
    bundle.metrics = {"validation": state.best_metrics}
    by_language = _by_language(
        logits,
        splits.validation,
        _lang_column(cfg.data, len(splits.validation.texts), "validation"),
        labels,
        source_labels,
    )
    language_rows = training_languages(splits.train.texts, _lang_column(cfg.data, len(splits.train.texts)))
    extra = {
        "languages": list(cfg.languages) if cfg.languages else reads(language_rows),
        "language_rows": language_rows,
        **({"validation_by_language": by_language} if by_language else {}),
        "train_config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
        "data": {
            "train_rows": len(ids),
            "validation_rows": len(splits.validation.texts),
            "validation_source": splits.validation_source,
            **_mix_report(cfg.data),
        },
        "best_epoch": state.best_epoch,
        "history": state.history,
        "calibration": calibration,
        "train_seconds": round(time.perf_counter() - started, 1),
        "device": device,
    }
    checkpoint.save(cfg.out, bundle, extra)
    _write_curve(cfg.out, state.history, cfg.select_metric)
    write_card(cfg.out)
    (cfg.out / STATE).unlink(missing_ok=True)
    log.info("saved model %s to %s in %.0f s", bundle.version, cfg.out, extra["train_seconds"])
    return cfg.out


class _Progress:
    """Epoch records, the best weights so far, and the resumable training state."""

    SCORES = ("accuracy", "macro_f1", "macro_recall", "n")

    def __init__(self, metric: str) -> None:
        self.metric = metric
        self.history: list[dict] = []
        self.best_epoch = 0
        self.best_state: dict = {}

    @property
    def epoch(self) -> int:
        return self.history[-1]["epoch"] if self.history else 0

    @property
    def best_metrics(self) -> dict:
        record = self.history[self.best_epoch - 1]
        return {k: record[k] for k in self.SCORES}

    def add(self, record: dict, model: nn.Module) -> None:
        self.history.append(record)
        if not self.best_epoch or record[self.metric] > self.history[self.best_epoch - 1][self.metric]:
            self.best_epoch = record["epoch"]
            self.best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}

    def save(self, cfg: TrainConfig, model, optimiser, scheduler) -> None:
        cfg.out.mkdir(parents=True, exist_ok=True)
        payload = {
            "config": _resume_key(cfg),
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_state": self.best_state,
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
        }
        tmp = cfg.out / (STATE + ".tmp")
        torch.save(payload, tmp)
        tmp.replace(cfg.out / STATE)

    def restore(self, cfg: TrainConfig, model, optimiser, scheduler) -> None:
        path = cfg.out / STATE
        if not path.is_file():
            log.info("no %s in %s: starting from the first epoch", STATE, cfg.out)
            return
        payload = torch.load(path, map_location="cpu", weights_only=True)
        if payload["config"] != _resume_key(cfg):
            raise ValueError(
                f"{path} was written with other settings; train again without --resume, or with the same settings"
            )
        model.load_state_dict(payload["model"])
        optimiser.load_state_dict(payload["optimiser"])
        scheduler.load_state_dict(payload["scheduler"])
        self.history, self.best_epoch = payload["history"], payload["best_epoch"]
        self.best_state = payload["best_state"]
        log.info("resuming after epoch %d (best so far: epoch %d)", self.epoch, self.best_epoch)


def _resume_key(cfg: TrainConfig) -> str:
    """The settings that must match for a resumed run to continue the same training."""
    skip = {"resume", "device", "threads", "out"}
    return repr(sorted((k, str(v)) for k, v in asdict(cfg).items() if k not in skip))


def _optimiser(model: LSTMClassifier, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on the embedding (rare words' vectors would shrink away) or on biases."""
    decay = [p for n, p in model.named_parameters() if not n.startswith("embedding") and p.dim() > 1]
    rest = [p for n, p in model.named_parameters() if n.startswith("embedding") or p.dim() <= 1]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr)


def labels_by_source(data) -> dict[str, list[str]]:
    """Each source's own labels (those its training rows use); empty when the data has no sources."""
    found: dict[str, set[str]] = {}
    for source, label in zip(data.sources or [], data.labels, strict=False):
        found.setdefault(source, set()).add(label)
    return {source: sorted(labels) for source, labels in found.items()}


def _allowed(data, source_labels: dict[str, list[str]], labels: list[str]) -> torch.Tensor | None:
    """[N, C] which classes each row's loss decides among: its source's labels (a binary source never
    teaches that a text is not neutral). None when every row may take every label."""
    if not source_labels or all(len(v) == len(labels) for v in source_labels.values()):
        return None
    rows = {s: torch.tensor([label in v for label in labels]) for s, v in source_labels.items()}
    return torch.stack([rows[s] for s in data.sources])


def _lang_column(data: Path, rows: int, split: str = "train") -> list[str | None] | None:
    """The `lang` column of a split's file, when it has one and its rows are that split's rows."""
    path = Path(data) / f"{split}.parquet" if Path(data).is_dir() else Path(data)
    if not path.is_file() or "lang" not in pq.read_schema(path).names:
        return None
    langs = pq.read_table(path, columns=["lang"]).column("lang").to_pylist()
    return langs if len(langs) == rows else None


def _mix_report(data: Path) -> dict:
    """The per-source counts of a general mix (sentiment_model.general), when the data is one."""
    path = Path(data) / "mix.json" if Path(data).is_dir() else None
    return {"mix": json.loads(path.read_text())["sources"]} if path and path.is_file() else {}


def _run_epoch(model, optimiser, scheduler, loss_fn, ids, targets, cfg: TrainConfig, epoch: int, device: str):
    """One pass; `targets` is (class ids [N], allowed classes [N, C] or None)."""
    targets, allowed = targets
    model.train()
    total, count, tokens_seen = 0.0, 0, 0
    batches = list(bucketed_batches([len(s) for s in ids], cfg.batch_size, True, cfg.seed + epoch))
    for batch in tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", unit="batch", leave=False, disable=None):
        tokens, lengths = pad_batch([ids[i] for i in batch])
        if cfg.word_dropout:
            tokens = tokens.masked_fill((tokens != PAD_ID) & (torch.rand(tokens.shape) < cfg.word_dropout), UNK_ID)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device == "cuda" and cfg.amp):
            logits = model(tokens.to(device, non_blocking=True), lengths).float()
            if allowed is not None:
                logits = logits.masked_fill(~allowed[batch].to(device), float("-inf"))
            loss = loss_fn(logits, targets[batch].to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_norm)
        optimiser.step()
        scheduler.step()
        total += loss.item() * len(batch)
        count += len(batch)
        tokens_seen += int(lengths.sum())
    return total / max(count, 1), tokens_seen


def _warmup_linear(warmup: float, total_steps: int) -> Callable[[int], float]:
    warm = max(1, int(warmup * total_steps))

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (total_steps - step) / max(1, total_steps - warm))

    return factor


def _validate(predictor: Predictor, data, labels: list[str], source_labels: dict[str, list[str]]) -> dict:
    """Validation scores; for mixed sources, the mean over sources of each one's scores, each source
    decided among its own labels, so a large source does not outweigh the others."""
    if not source_labels or data.sources is None:
        predicted = [row["label"] for row in predictor.predict(data.texts)]
        return metrics(data.labels, predicted, labels)
    predicted = _decided(predictor.logits(data.texts), data, labels, source_labels)
    per_source = {}
    for source in sorted(set(data.sources)):
        rows = [i for i, s in enumerate(data.sources) if s == source]
        per_source[source] = metrics(
            [data.labels[i] for i in rows], [predicted[i] for i in rows], source_labels.get(source, labels)
        )
    mean = {
        k: sum(m[k] for m in per_source.values()) / len(per_source) for k in ("accuracy", "macro_f1", "macro_recall")
    }
    return {**mean, "n": len(data.texts), "sources": {s: round(m["macro_f1"], 4) for s, m in per_source.items()}}


def _by_language(
    logits: torch.Tensor, data, langs: list[str | None] | None, labels: list[str], source_labels: dict[str, list[str]]
) -> dict:
    """Scores per language on the validation rows when they have several languages (a row of a mixed
    source decided among its source's labels), for model.json and the card; else {}."""
    if not langs or len(set(langs)) < 2:
        return {}
    predicted = _decided(logits, data, labels, source_labels)
    out = {}
    for lang in sorted(set(langs), key=lambda code: (code is None, code or "")):
        rows = [i for i, code in enumerate(langs) if code == lang]
        gold = [data.labels[i] for i in rows]
        scores = metrics(gold, [predicted[i] for i in rows], sorted(set(gold)))
        out[lang or "und"] = {k: round(scores[k], 4) for k in ("accuracy", "macro_f1")} | {"n": len(rows)}
    return out


def _decided(logits: torch.Tensor, data, labels: list[str], source_labels: dict[str, list[str]]) -> list[str]:
    """Each row's label, decided among its source's own labels (all labels without sources)."""
    sources = data.sources or [""] * len(data.texts)
    predicted = [""] * len(data.texts)
    for source in set(sources):
        rows = [i for i, s in enumerate(sources) if s == source]
        for i, label in zip(rows, decide(logits[rows], labels, source_labels.get(source, labels)), strict=True):
            predicted[i] = label
    return predicted


def _calibrate(logits: torch.Tensor, data, label_id: dict[str, int]) -> dict:
    targets = torch.tensor([label_id[label] for label in data.labels])
    temperature = fit_temperature(logits, targets)
    return {
        "temperature": round(temperature, 4),
        "validation_ece_before": round(expected_calibration_error(torch.softmax(logits, -1), targets), 4),
        "validation_ece_after": round(expected_calibration_error(torch.softmax(logits / temperature, -1), targets), 4),
    }


def _class_weights(targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    counts = torch.bincount(targets, minlength=num_classes).float().clamp(min=1)
    return counts.sum() / (num_classes * counts)


def _write_curve(out: Path, history: list[dict], metric: str) -> None:
    from sentiment_model.plots import training_curve

    training_curve(history, metric, out / "training_curve.png")


def _fmt(scores: dict) -> str:
    return ", ".join(f"{k} {v:.4f}" for k, v in scores.items() if isinstance(v, float))
