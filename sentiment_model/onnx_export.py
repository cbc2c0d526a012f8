"""The model as an ONNX graph for ONNX Runtime: the same forward (the LSTM over each text's true
length, the pooling, the head); the model alone runs 1.45-1.67x faster on the CPU in the job's
mixed-length sub-batches (the job end to end does not: see docs/scoring.md).

The export is a cache derived from the checkpoint (named by its weights' SHA-256), checked
against PyTorch on random batches before it is used; checkpoints stay state_dict + config + vocab.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from pathlib import Path

import torch

from sentiment_model import checkpoint

log = logging.getLogger(__name__)
TOLERANCE = 1e-4  # largest logit difference accepted between the export and PyTorch (seen: 3.3e-6)


def exported(model_dir: Path, cache: Path) -> Path:
    """The model's ONNX file under `cache`, exported (and checked) on first use."""
    digest = checkpoint.read_meta(model_dir)["sha256"][checkpoint.WEIGHTS][:16]
    path = Path(cache) / f"model-{digest}.onnx"
    if not path.exists():
        export(model_dir, path)
    return path


def export(model_dir: Path, path: Path) -> Path:
    bundle = checkpoint.load(model_dir, "cpu")
    model = bundle.model.eval()
    tokens, lengths = _example(bundle.model.config.vocab_size, 4, 9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".export-", suffix=".onnx", dir=path.parent)
    os.close(fd)
    try:
        with warnings.catch_warnings(), _quiet_stderr():
            warnings.simplefilter("ignore")  # the exporter's notes on packed sequences' shape inference
            torch.onnx.export(
                model,
                (tokens, lengths),
                scratch,
                input_names=["tokens", "lengths"],
                output_names=["logits"],
                dynamic_axes={"tokens": {0: "batch", 1: "time"}, "lengths": {0: "batch"}},
                dynamo=False,
                opset_version=17,
            )
        check(model, scratch)
        os.replace(scratch, path)
    finally:
        Path(scratch).unlink(missing_ok=True)
    log.info("exported the model to ONNX: %s", path)
    return path


def session(path: Path, threads: int | None = None):
    """An ONNX Runtime session on the CPU (`threads` intra-op threads; None: one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    # Idle intra-op threads must not spin: between batches the job's Python (tokenizing,
    # Beam) needs the cores; spinning made the job slower with ONNX Runtime than with PyTorch.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def logits(run, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """[B, classes] logits from a session for padded token ids and their lengths."""
    out = run.run(None, {"tokens": tokens.numpy().astype("int64"), "lengths": lengths.numpy().astype("int64")})[0]
    return torch.from_numpy(out)


class OnnxModel:
    """Callable like the model: logits for padded token ids and their lengths, by ONNX Runtime."""

    def __init__(self, path: Path, threads: int | None = None):
        self.session = session(path, threads)

    def __call__(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return logits(self.session, tokens, lengths)


def check(model: torch.nn.Module, path: str | Path) -> None:
    """Raise unless the export gives PyTorch's logits (within TOLERANCE) on random mixed-length batches."""
    run = session(Path(path), threads=1)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for batch, width in ((1, 1), (7, 23), (32, 64)):
            tokens, lengths = _example(model.config.vocab_size, batch, width, generator)
            expected = model(tokens, lengths)
            got = logits(run, tokens, lengths)
            worst = float((expected - got).abs().max())
            if worst > TOLERANCE:
                raise RuntimeError(
                    f"the ONNX export differs from the model by {worst:.2e} (> {TOLERANCE}); score with --backend torch"
                )


def _example(vocab: int, batch: int, width: int, generator: torch.Generator | None = None):
    lengths = torch.randint(1, width + 1, (batch,), generator=generator)
    lengths[0] = width
    tokens = torch.randint(2, vocab, (batch, width), generator=generator)
    tokens[torch.arange(width)[None, :] >= lengths[:, None]] = 0
    return tokens, lengths


@contextlib.contextmanager
def _quiet_stderr():
    """The exporter's C++ side prints shape-inference notes to fd 2; keep them off the console."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
