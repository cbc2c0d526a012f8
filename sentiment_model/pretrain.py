"""A bidirectional LSTM language model on unlabelled text, to start the classifier from (Dai & Le 2015;
ULMFiT, Howard & Ruder 2018).

The model is the classifier's own embedding and (Bi)LSTM: the forward direction's state after
token t predicts token t+1, the backward direction's state at t (having read the text from the
end back to t) predicts token t-1, so neither sees the token it predicts. An adaptive softmax
(Grave et al. 2017) keeps the 30k-word output affordable on a CPU. Training stops after
`epochs` passes or at the time budget, whichever comes first.

Saved as one file (torch.save of plain tensors, lists and numbers, loaded with weights_only):
the embedding and LSTM weights, the vocabulary and the config. The classifier copies the
LSTM whole and the embedding rows of the words both vocabularies share (sentiment_model.train).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from tqdm.auto import tqdm

from sentiment.files import content_key
from sentiment_model.data import bucketed_batches, pad_batch
from sentiment_model.tokenize import VERSION as TOKENIZER
from sentiment_model.tokenize import tokenize
from sentiment_model.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainConfig:
    embed_dim: int = 128  # must equal the classifier's embed_dim
    hidden_dim: int = 128  # must equal the classifier's hidden_dim
    max_vocab: int = 30000  # input and output vocabulary
    min_freq: int = 3  # rarer words are <unk>
    max_tokens: int = 64  # texts are cut to their first this many tokens (reviews: the opening)
    batch_size: int = 64  # texts per step
    epochs: int = 4  # most passes over the text
    budget_minutes: float = 30.0  # stop after the step that passes this much training time
    lr: float = 2e-3  # peak AdamW learning rate (warm-up, then linear decay over the planned steps)
    dropout: float = 0.2  # on embeddings and LSTM outputs
    cutoffs: tuple[int, ...] = (2000, 10000)  # adaptive softmax clusters (frequent words cost least)
    seed: int = 13

    def __post_init__(self) -> None:
        if self.budget_minutes <= 0 or self.epochs < 1:
            raise ValueError("budget_minutes must be positive and epochs >= 1")


class BiLanguageModel(nn.Module):
    def __init__(self, vocab_size: int, cfg: PretrainConfig):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, cfg.embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(cfg.embed_dim, cfg.hidden_dim, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(cfg.dropout)
        cutoffs = [c for c in cfg.cutoffs if c < vocab_size - 1] or [max(1, vocab_size // 2)]  # small vocabularies
        self.forward_head = nn.AdaptiveLogSoftmaxWithLoss(cfg.hidden_dim, vocab_size, cutoffs, div_value=4.0)
        self.backward_head = nn.AdaptiveLogSoftmaxWithLoss(cfg.hidden_dim, vocab_size, cutoffs, div_value=4.0)
        self.hidden = cfg.hidden_dim

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Mean negative log-likelihood per predicted token, both directions."""
        packed = pack_padded_sequence(
            self.dropout(self.embedding(tokens)), lengths.cpu(), batch_first=True, enforce_sorted=False
        )
        outputs, _ = self.lstm(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=tokens.size(1))
        outputs = self.dropout(outputs)
        steps = torch.arange(tokens.size(1) - 1, device=tokens.device)
        valid = steps[None, :] < (lengths - 1).to(tokens.device)[:, None]
        forward_states = outputs[:, :-1, : self.hidden][valid]  # after token t -> token t+1
        backward_states = outputs[:, 1:, self.hidden :][valid]  # at token t+1, read from the end -> token t
        loss_f = self.forward_head(forward_states, tokens[:, 1:][valid]).loss
        loss_b = self.backward_head(backward_states, tokens[:, :-1][valid]).loss
        return (loss_f + loss_b) / 2


def pretrain(texts: list[str], out: Path, cfg: PretrainConfig = PretrainConfig(), device: str = "cpu") -> Path:
    """Train the language model on `texts`; save it to `out` (one .pt file)."""
    torch.manual_seed(cfg.seed)
    docs = [tokenize(t, cfg.max_tokens)[: cfg.max_tokens] for t in texts]
    docs = [d for d in docs if len(d) >= 3]
    if not docs:
        raise ValueError("no text of three or more tokens to pretrain on")
    vocab = Vocab.build(docs, cfg.min_freq, cfg.max_vocab)
    ids = [vocab.encode(d) for d in docs]
    model = BiLanguageModel(len(vocab), cfg).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    steps = cfg.epochs * -(-len(ids) // cfg.batch_size)
    warm = max(1, steps // 50)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warm, max(0.05, (steps - s) / max(1, steps - warm)))
    )
    log.info(
        "pretraining on %d texts (%d tokens), vocabulary %d, device %s, at most %d epochs or %.0f min",
        len(ids),
        sum(map(len, ids)),
        len(vocab),
        device,
        cfg.epochs,
        cfg.budget_minutes,
    )
    started, history, out_of_time = time.perf_counter(), [], False
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        total, count, tokens_seen, t0 = 0.0, 0, 0, time.perf_counter()
        batches = list(bucketed_batches([len(s) for s in ids], cfg.batch_size, True, cfg.seed + epoch))
        for batch in (bar := tqdm(batches, desc=f"pretrain {epoch}/{cfg.epochs}", unit="batch", disable=None)):
            tokens, lengths = pad_batch([ids[i] for i in batch])
            loss = model(tokens.to(device), lengths)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            total, count, tokens_seen = total + loss.item(), count + 1, tokens_seen + int(lengths.sum())
            if count % 50 == 0:
                bar.set_postfix(loss=f"{total / count:.3f}")
            if time.perf_counter() - started > cfg.budget_minutes * 60:
                out_of_time = True
                break
        seconds = time.perf_counter() - t0
        history.append(
            {
                "epoch": epoch,
                "loss": round(total / max(count, 1), 4),
                "batches": count,
                "tokens_per_s": round(tokens_seen / seconds),
                "seconds": round(seconds, 1),
            }
        )
        log.info(
            "pretrain epoch %d: loss %.4f (perplexity %.0f), %d tokens/s",
            epoch,
            total / max(count, 1),
            torch.tensor(total / max(count, 1)).exp(),
            tokens_seen / seconds,
        )
        if out_of_time:
            log.info("pretraining stopped at its %.0f-minute budget", cfg.budget_minutes)
            break
    state = {k: v.detach().cpu() for k, v in model.state_dict().items() if k.startswith(("embedding.", "lstm."))}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    torch.save(
        {
            "state": state,
            "vocab": vocab.itos,
            "config": asdict(cfg),
            "history": history,
            "texts": len(ids),
            "seconds": round(time.perf_counter() - started, 1),
            "device": device,
        },
        tmp,
    )
    tmp.replace(out)
    return out


def load(path: Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"pretrained language model not found: {path}; build it with `sentiment pretrain`")
    return torch.load(path, map_location="cpu", weights_only=True)


def start_from(model: nn.Module, vocab: Vocab, lm: dict) -> int:
    """Copy the language model's LSTM into `model` and its embedding rows for the words both know;
    returns how many words were copied."""
    lstm_state = {k[len("lstm.") :]: v for k, v in lm["state"].items() if k.startswith("lstm.")}
    try:
        model.lstm.load_state_dict(lstm_state)
    except RuntimeError as err:
        raise ValueError(
            f"the pretrained language model does not fit this classifier (embed_dim, hidden_dim, "
            f"one bidirectional layer must match: {lm['config']}): {err}"
        ) from None
    index = {t: i for i, t in enumerate(lm["vocab"])}
    hits = [(i, index[t]) for i, t in enumerate(vocab.itos) if t in index]
    weights = lm["state"]["embedding.weight"]
    with torch.no_grad():
        model.embedding.weight[[h[0] for h in hits]] = weights[[h[1] for h in hits]]
    return len(hits)


def pretraining_texts(data_dir: Path, seed: int = 13) -> list[str]:
    """Every dataset's training text and the unlabelled corpora (sentiment_model.corpus), less any text
    that is in a judged split (even unlabelled, a test text is never trained on), shuffled."""
    from sentiment_model.corpus import pretraining_files, texts
    from sentiment_model.general_mix import judged_texts, normalise

    banned = judged_texts(Path(data_dir))
    kept = [t for t in texts(pretraining_files(Path(data_dir))) if normalise(t) not in banned]
    random.Random(seed).shuffle(kept)
    return kept


def cached(data_dir: Path, cache_dir: Path, cfg: PretrainConfig = PretrainConfig(), device: str = "cpu") -> Path:
    """The language model for `data_dir`'s pretraining text, built once under `cache_dir` (keyed by the
    files' names, sizes and modification times and the config)."""
    from sentiment_model.corpus import pretraining_files

    key = content_key(f"{cfg!r} tokenizer {TOKENIZER}", Path(data_dir), pretraining_files(Path(data_dir)))
    path = Path(cache_dir) / f"bilm-{key}.pt"
    if not path.is_file():
        log.info("pretraining the language model (once; cached at %s)", path)
        pretrain(pretraining_texts(Path(data_dir), cfg.seed), path, cfg, device)
    return path


def resolve(value: str | Path | None, data_dir: Path, cache_dir: Path, device: str = "cpu") -> Path | None:
    """`--pretrained`: "auto" (the cached language model of the datasets directory, built when missing),
    "none", or a file."""
    if value is None or str(value) == "none":
        return None
    if str(value) == "auto":
        return cached(Path(data_dir), Path(cache_dir), PretrainConfig(), device)
    return Path(value)
