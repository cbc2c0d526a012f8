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
from sentiment.storage import fetch_file, location, uri
from sentiment_model import checkpoint, folded, onnx_export
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.vocab import PAD_ID

# Each element is a batch already: RunInference takes them one at a time.
ONE_AT_A_TIME = {"min_batch_size": 1, "max_batch_size": 1}
# Padded tokens per sub-batch. The folded model runs packed (padding costs it nothing) and pays a
# fixed cost per step, so it wants as many documents per step as it can get: the whole batch.
SUB_BATCH_TOKENS = {"torch": 4096, "onnx": 4096, "folded": 1 << 24}


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
            else:  # the CPU backends: ONNX Runtime's session or the folded model
                logits = model(tokens, lengths)
            chunk = torch.softmax(logits / temperature, dim=-1).cpu().numpy()
            if probs is None:
                probs = np.empty((len(batch), chunk.shape[1]), dtype=np.float32)
            probs[rows] = chunk
            tokens_real += int(lengths.sum())
            tokens_padded += int(lengths.sum()) if getattr(model, "packed", False) else tokens.numel()
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


class CpuModelHandler(ModelHandler):
    """The model run on the CPU by `backend`: "onnx" (ONNX Runtime over its export at `path`) or
    "folded" (sentiment_model.folded over the checkpoint at `path`, its gate table cached in
    `cache`); sub-batches and results as the PyTorch handler's (same labels; probabilities
    within float32 rounding)."""

    def __init__(
        self,
        backend: str,
        path: Path | str,
        temperature: float,
        sub_batch_tokens: int,
        threads: int | None,
        cache: str | None = None,
    ):
        super().__init__(**ONE_AT_A_TIME)
        self.backend, self.path, self.cache = backend, str(path), cache
        self.temperature, self.sub_batch_tokens, self.threads = temperature, sub_batch_tokens, threads

    def load_model(self):
        # on a worker: the files are read from the warehouse (copied to local disk once) when they live there
        if self.backend == "folded":
            # one thread unless asked: its per-step products are small, and splitting them across
            # threads made the in-process job 2.6x slower on 2 cores (39.6 s against 15.1 s)
            torch.set_num_threads(self.threads or 1)
            return folded.load(location(self.path), self.cache)
        return onnx_export.OnnxModel(fetch_file(self.path), self.threads)

    def run_inference(self, batch: Sequence[EncodedBatch], model, inference_args: dict | None = None):
        return inference_fn(batch, model, "cpu", sub_batch_tokens=self.sub_batch_tokens, temperature=self.temperature)

    def get_num_bytes(self, batch: Sequence[EncodedBatch]) -> int:
        return _num_bytes(batch)


def make_model_handler(
    model_dir: Path,
    device: str = "CPU",
    sub_batch_tokens: int | None = None,
    onnx_path: Path | None = None,
    threads: int | None = None,
    backend: str = "torch",
    cache: str | None = None,
) -> ModelHandler:
    """Beam's PyTorch handler over our checkpoint, or a CPU backend's (`backend` onnx, with
    `onnx_path`, or folded); `sub_batch_tokens` defaults to the backend's SUB_BATCH_TOKENS."""
    meta = checkpoint.read_meta(model_dir)
    temperature = float(meta.get("temperature", 1.0))
    sub_batch_tokens = sub_batch_tokens or SUB_BATCH_TOKENS[backend]
    if backend == "onnx":
        return CpuModelHandler("onnx", onnx_path, temperature, sub_batch_tokens, threads)
    if backend == "folded":
        return CpuModelHandler("folded", uri(model_dir), temperature, sub_batch_tokens, threads, cache)
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
    with the model in `model_dir` run by `backend` (torch, onnx from `onnx_path`, or folded)."""

    def __init__(
        self,
        model_dir: Path,
        device: str = "CPU",
        sub_batch_tokens: int | None = None,
        onnx_path: Path | None = None,
        threads: int | None = None,
        backend: str | None = None,
        cache: str | None = None,
    ):
        super().__init__()
        backend = backend or ("onnx" if onnx_path is not None else "torch")
        self.handler = make_model_handler(
            location(model_dir), device, sub_batch_tokens, onnx_path, threads, backend, cache
        )

    def expand(self, batches):
        return batches | "RunInference" >> RunInference(self.handler)
