"""RunInference with Beam's PyTorch model handler, batched by token count."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import apache_beam as beam
import torch
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import KeyedModelHandler, ModelHandler, PredictionResult, RunInference
from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

from pipelines.encode import NAMESPACE
from sentiment_model import checkpoint, onnx_export
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
    if isinstance(model, torch.nn.Module):
        logits = model(tokens.to(device), lengths).float()
    else:  # an ONNX Runtime session
        logits = onnx_export.logits(model, tokens, lengths)
    for i, row in zip(chunk, torch.softmax(logits / temperature, dim=-1).cpu().numpy(), strict=True):
        probs[i] = row
    Metrics.counter(NAMESPACE, "tokens").inc(int(lengths.sum()))
    Metrics.counter(NAMESPACE, "padded_tokens").inc(int(tokens.numel()))


class OnnxTokenIdsModelHandler(ModelHandler):
    """The model exported to ONNX, run by ONNX Runtime on the CPU; batching and results as
    the PyTorch handler's (same sub-batches, same probabilities within float32 rounding)."""

    def __init__(self, onnx_path: Path, temperature: float, sub_batch_tokens: int, threads: int | None, **batching):
        super().__init__(**batching)
        self.onnx_path, self.temperature = str(onnx_path), temperature
        self.sub_batch_tokens, self.threads = sub_batch_tokens, threads

    def load_model(self):
        return onnx_export.session(Path(self.onnx_path), self.threads)

    def run_inference(self, batch: Sequence, model, inference_args: dict | None = None) -> list[PredictionResult]:
        return padded_inference_fn(batch, model, "cpu", sub_batch_tokens=self.sub_batch_tokens,
                                   temperature=self.temperature)

    def get_num_bytes(self, batch: Sequence) -> int:
        return sum(len(ids) for ids in batch) * 4


def make_model_handler(
    model_dir: Path, device: str = "CPU", max_batch_tokens: int = 16384, sub_batch_tokens: int = 4096,
    onnx_path: Path | None = None, threads: int | None = None,
) -> KeyedModelHandler:
    """Beam's PyTorch handler over our checkpoint (or, with `onnx_path`, ONNX Runtime over its
    export), batches sized in tokens.

    With `element_size_fn`, BatchElements counts a batch's size as the sum of its
    elements' sizes, so min/max_batch_size are token counts here. (Beam 2.77's
    `max_batch_weight` is forwarded to a BatchElements that rejects it.)
    """
    meta = checkpoint.read_meta(model_dir)
    batching = {"min_batch_size": min(256, max_batch_tokens), "max_batch_size": max_batch_tokens,
                "element_size_fn": token_count}
    if onnx_path is not None:
        return KeyedModelHandler(OnnxTokenIdsModelHandler(
            onnx_path, float(meta.get("temperature", 1.0)), sub_batch_tokens, threads, **batching))
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
            **batching,
        )
    )


class Infer(beam.PTransform):
    """(key, ids) -> (key, PredictionResult) with the model in `model_dir` (run by ONNX Runtime
    from `onnx_path` when given)."""

    def __init__(
        self, model_dir: Path, device: str = "CPU", max_batch_tokens: int = 16384, sub_batch_tokens: int = 4096,
        onnx_path: Path | None = None, threads: int | None = None,
    ):
        super().__init__()
        self.handler = make_model_handler(Path(model_dir), device, max_batch_tokens, sub_batch_tokens, onnx_path,
                                          threads)

    def expand(self, keyed_ids):
        return keyed_ids | "RunInference" >> RunInference(self.handler)
