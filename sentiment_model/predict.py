"""Class probabilities for texts from a saved model, in length-sorted batches."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch

from sentiment_model import checkpoint
from sentiment_model.data import bucketed_batches, encode, pad_batch


def sentiment_score(labels: Sequence[str], probs: Sequence[float]) -> float | None:
    """P(positive) - P(negative) where the label set has both, else None."""
    index = {label: i for i, label in enumerate(labels)}
    if "positive" in index and "negative" in index:
        return float(probs[index["positive"]] - probs[index["negative"]])
    return None


class Predictor:
    """Texts -> logits/probabilities. The model runs in PyTorch on `device`, or, on the CPU, as its
    ONNX export (`onnx_path`; sentiment_model.onnx_export) or folded (`folded`; sentiment_model.folded)."""

    def __init__(
        self,
        bundle: checkpoint.ModelBundle,
        device: str = "cpu",
        onnx_path: Path | None = None,
        folded: Callable | None = None,
        threads: int | None = None,
    ):
        self.bundle = bundle
        self.device = device
        self.run = folded
        if onnx_path is not None:
            from sentiment_model import onnx_export

            self.run = onnx_export.OnnxModel(Path(onnx_path), threads)

    @classmethod
    def load(
        cls,
        directory: Path,
        device: str = "cpu",
        onnx_path: Path | None = None,
        folded_cache: Path | None = None,
        threads: int | None = None,
    ) -> Predictor:
        """The model in `directory`; with `folded_cache`, folded (its gate table cached there);
        `threads`: ONNX Runtime's intra-op threads (None: one per core)."""
        run = None
        if folded_cache is not None:
            from sentiment_model import folded

            run = folded.load(directory, folded_cache)
        return cls(checkpoint.load(directory, device), device, onnx_path, run, threads)

    @torch.no_grad()
    def logits(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """[N, num_classes] raw logits, in the order of `texts`."""
        ids = encode(texts, self.bundle.vocab, self.bundle.max_tokens)
        out = torch.empty(len(texts), len(self.bundle.labels))
        self.bundle.model.eval()
        for batch in bucketed_batches([len(s) for s in ids], batch_size, shuffle=False):
            tokens, lengths = pad_batch([ids[i] for i in batch])
            if self.run is not None:
                out[batch] = self.run(tokens, lengths)
            else:
                out[batch] = self.bundle.model(tokens.to(self.device), lengths).float().cpu()
        return out

    def probabilities(self, texts: Sequence[str], batch_size: int = 256) -> torch.Tensor:
        """[N, num_classes] calibrated probabilities (the model's temperature applied)."""
        return torch.softmax(self.logits(texts, batch_size) / self.bundle.temperature, dim=-1)

    def predict(self, texts: Sequence[str]) -> list[dict]:
        labels = self.bundle.labels
        rows = []
        for probs in self.probabilities(texts).tolist():
            best = max(range(len(labels)), key=probs.__getitem__)
            rows.append(
                {
                    "label": labels[best],
                    "probabilities": dict(zip(labels, probs, strict=True)),
                    "score": sentiment_score(labels, probs),
                }
            )
        return rows
