"""RunInference with Beam's PyTorch model handler, batched by token count."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import apache_beam as beam
import torch
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import KeyedModelHandler, PredictionResult, RunInference
from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

from pipelines.encode import NAMESPACE
from sentiment_model import checkpoint
from sentiment_model.data import pad_batch
from sentiment_model.model import LSTMClassifier, ModelConfig


def token_count(element: Any) -> int:
    """Batch weight of one element: its token count (keyed or not)."""
    ids = element[1] if isinstance(element, tuple) else element
    return len(ids)


class TokenIdsModelHandler(PytorchModelHandlerTensor):
    """Beam's PyTorch handler for variable-length id arrays (numpy int32, or tensors).

    Only the size estimate differs: Beam's walks every element of every tensor.
    """

    def get_num_bytes(self, batch: Sequence) -> int:
        return sum(len(ids) for ids in batch) * 4


def padded_inference_fn(
    batch: Sequence,
    model: torch.nn.Module,
    device: str,
    inference_args: dict | None = None,
    model_id: str | None = None,
    sub_batch_tokens: int = 4096,
    temperature: float = 1.0,
) -> list[PredictionResult]:
    """Class probabilities (logits / `temperature`, softmax) for a batch of variable-length id tensors.

    The batch is sorted by length and cut into sub-batches of at most
    `sub_batch_tokens` padded tokens, so little compute goes to padding; results
    come back in the batch's order.
    """
    order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
    probs: list = [None] * len(batch)
    chunk: list[int] = []
    with torch.no_grad():
        for i in order:
            if chunk and (len(chunk) + 1) * len(batch[i]) > sub_batch_tokens:
                _run_chunk(model, device, batch, chunk, probs, temperature)
                chunk = []
            chunk.append(i)
        if chunk:
            _run_chunk(model, device, batch, chunk, probs, temperature)
    Metrics.counter(NAMESPACE, "batches").inc()
    Metrics.counter(NAMESPACE, "batched_documents").inc(len(batch))
    return [PredictionResult(example, p, model_id) for example, p in zip(batch, probs, strict=True)]


def _run_chunk(model, device, batch, chunk: list[int], probs: list, temperature: float) -> None:
    tokens, lengths = pad_batch([batch[i] for i in chunk])
    logits = model(tokens.to(device), lengths).float()
    for i, row in zip(chunk, torch.softmax(logits / temperature, dim=-1).cpu().numpy(), strict=True):
        probs[i] = row
    Metrics.counter(NAMESPACE, "tokens").inc(int(lengths.sum()))
    Metrics.counter(NAMESPACE, "padded_tokens").inc(int(tokens.numel()))


def make_model_handler(
    model_dir: Path, device: str = "CPU", max_batch_tokens: int = 16384, sub_batch_tokens: int = 4096
) -> KeyedModelHandler:
    """Beam's PyTorch handler over our checkpoint, batches sized in tokens.

    With `element_size_fn`, BatchElements counts a batch's size as the sum of its
    elements' sizes, so min/max_batch_size are token counts here. (Beam 2.77's
    `max_batch_weight` is forwarded to a BatchElements that rejects it.)
    """
    meta = checkpoint.read_meta(model_dir)
    return KeyedModelHandler(
        TokenIdsModelHandler(
            state_dict_path=str(model_dir / checkpoint.WEIGHTS),
            model_class=LSTMClassifier,
            model_params={"config": ModelConfig(**meta["model_config"])},
            device=device,
            inference_fn=partial(
                padded_inference_fn,
                sub_batch_tokens=sub_batch_tokens,
                temperature=float(meta.get("temperature", 1.0)),
            ),
            load_model_args={"weights_only": True},
            min_batch_size=min(256, max_batch_tokens),
            max_batch_size=max_batch_tokens,
            element_size_fn=token_count,
        )
    )


class Infer(beam.PTransform):
    """(key, ids) -> (key, PredictionResult) with the model in `model_dir`."""

    def __init__(
        self, model_dir: Path, device: str = "CPU", max_batch_tokens: int = 16384, sub_batch_tokens: int = 4096
    ):
        super().__init__()
        self.handler = make_model_handler(Path(model_dir), device, max_batch_tokens, sub_batch_tokens)

    def expand(self, keyed_ids):
        return keyed_ids | "RunInference" >> RunInference(self.handler)
