"""RunInference over encoded batches, with Beam's PyTorch model handler or ONNX Runtime.

Each RunInference element is one EncodedBatch (already cut to a token budget by
Encode, in row order); inside it documents are sorted by length and run in
sub-batches of at most `sub_batch_tokens` padded tokens, so little compute goes to
padding, and a document's scores depend only on its batch, never on timing.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from pathlib import Path

import apache_beam as beam
import numpy as np
import torch
from apache_beam.metrics import Metrics
from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference
from apache_beam.ml.inference.pytorch_inference import PytorchModelHandlerTensor

from pipelines.encode import NAMESPACE, EncodedBatch
from sentiment.storage import fetch_file, location
from sentiment_model import checkpoint, onnx_export
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.vocab import PAD_ID

# Each element is a batch already: RunInference takes them one at a time.
ONE_AT_A_TIME = {"min_batch_size": 1, "max_batch_size": 1}


def padded(batch: EncodedBatch, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Padded ids [len(rows), longest] (int64) and lengths of the documents `rows` of `batch`."""
    starts, lengths = batch.offsets[rows], batch.lengths[rows]
    width = int(lengths.max())
    index = starts[:, None] + np.arange(width)[None, :]
    inside = np.arange(width)[None, :] < lengths[:, None]
    tokens = np.where(inside, batch.ids[np.minimum(index, len(batch.ids) - 1)], PAD_ID).astype(np.int64)
    return torch.from_numpy(tokens), torch.from_numpy(lengths.astype(np.int64))


def sub_batches(lengths: np.ndarray, sub_batch_tokens: int) -> list[np.ndarray]:
    """Row indices sorted by length (stable), cut where the padded size would pass `sub_batch_tokens`."""
    order = np.argsort(lengths, kind="stable")
    out, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or (end - start + 1) * lengths[order[end]] > sub_batch_tokens:
            out.append(order[start:end])
            start = end
    return out


def batch_probabilities(
    batch: EncodedBatch, model, device: str = "cpu", sub_batch_tokens: int = 4096, temperature: float = 1.0
) -> np.ndarray:
    """[len(batch), classes] float32 class probabilities (logits / temperature, softmax), in row order."""
    probs = None
    tokens_real = tokens_padded = 0
    with torch.no_grad():
        for rows in sub_batches(batch.lengths, sub_batch_tokens):
            tokens, lengths = padded(batch, rows)
            if isinstance(model, torch.nn.Module):
                logits = model(tokens.to(device), lengths).float()
            else:  # an ONNX Runtime session
                logits = onnx_export.logits(model, tokens, lengths)
            chunk = torch.softmax(logits / temperature, dim=-1).cpu().numpy()
            if probs is None:
                probs = np.empty((len(batch), chunk.shape[1]), dtype=np.float32)
            probs[rows] = chunk
            tokens_real += int(lengths.sum())
            tokens_padded += tokens.numel()
    Metrics.counter(NAMESPACE, "tokens").inc(tokens_real)
    Metrics.counter(NAMESPACE, "padded_tokens").inc(tokens_padded)
    return probs


def inference_fn(
    batches: Sequence[EncodedBatch],
    model,
    device: str,
    inference_args: dict | None = None,
    model_id: str | None = None,
    sub_batch_tokens: int = 4096,
    temperature: float = 1.0,
) -> list[PredictionResult]:
    """One PredictionResult per EncodedBatch: its [documents, classes] probabilities."""
    results = []
    for batch in batches:
        results.append(
            PredictionResult(batch, batch_probabilities(batch, model, device, sub_batch_tokens, temperature), model_id)
        )
        Metrics.counter(NAMESPACE, "batches").inc()
        Metrics.counter(NAMESPACE, "batched_documents").inc(len(batch))
    return results


def _num_bytes(batches: Sequence[EncodedBatch]) -> int:
    return sum(b.ids.nbytes for b in batches)


class TokenIdsModelHandler(PytorchModelHandlerTensor):
    """Beam's PyTorch handler over EncodedBatch elements (only the size estimate differs)."""

    def get_num_bytes(self, batch: Sequence[EncodedBatch]) -> int:
        return _num_bytes(batch)


class OnnxTokenIdsModelHandler(ModelHandler):
    """The model exported to ONNX, run by ONNX Runtime on the CPU; sub-batches and results as
    the PyTorch handler's (same probabilities within float32 rounding)."""

    def __init__(self, onnx_path: Path | str, temperature: float, sub_batch_tokens: int, threads: int | None):
        super().__init__(**ONE_AT_A_TIME)
        self.onnx_path, self.temperature = str(onnx_path), temperature
        self.sub_batch_tokens, self.threads = sub_batch_tokens, threads

    def load_model(self):
        # on a worker: the export is read from the warehouse (copied to local disk once) when it lives there
        return onnx_export.session(fetch_file(self.onnx_path), self.threads)

    def run_inference(self, batch: Sequence[EncodedBatch], model, inference_args: dict | None = None):
        return inference_fn(batch, model, "cpu", sub_batch_tokens=self.sub_batch_tokens, temperature=self.temperature)

    def get_num_bytes(self, batch: Sequence[EncodedBatch]) -> int:
        return _num_bytes(batch)


def make_model_handler(
    model_dir: Path,
    device: str = "CPU",
    sub_batch_tokens: int = 4096,
    onnx_path: Path | None = None,
    threads: int | None = None,
) -> ModelHandler:
    """Beam's PyTorch handler over our checkpoint (or, with `onnx_path`, ONNX Runtime over its export)."""
    meta = checkpoint.read_meta(model_dir)
    temperature = float(meta.get("temperature", 1.0))
    if onnx_path is not None:
        return OnnxTokenIdsModelHandler(onnx_path, temperature, sub_batch_tokens, threads)
    return TokenIdsModelHandler(
        state_dict_path=str(model_dir / checkpoint.WEIGHTS),
        model_class=LSTMClassifier,
        model_params={"config": ModelConfig(**meta["model_config"])},
        device=device,
        inference_fn=partial(inference_fn, sub_batch_tokens=sub_batch_tokens, temperature=temperature),
        load_model_args={"weights_only": True},
        **ONE_AT_A_TIME,
    )


class Infer(beam.PTransform):
    """EncodedBatch -> PredictionResult(example=batch, inference=[documents, classes] probabilities),
    with the model in `model_dir` (run by ONNX Runtime from `onnx_path` when given)."""

    def __init__(
        self,
        model_dir: Path,
        device: str = "CPU",
        sub_batch_tokens: int = 4096,
        onnx_path: Path | None = None,
        threads: int | None = None,
    ):
        super().__init__()
        self.handler = make_model_handler(location(model_dir), device, sub_batch_tokens, onnx_path, threads)

    def expand(self, batches):
        return batches | "RunInference" >> RunInference(self.handler)
