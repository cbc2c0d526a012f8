"""The CUDA paths: training (cuDNN LSTM, bf16 autocast) and prediction. Skipped where there is no GPU."""

import pytest
import torch

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


def test_training_on_cuda_learns_and_saves_a_cpu_loadable_model(labelled_dir, tmp_path):
    from sentiment_model import checkpoint
    from sentiment_model.evaluate import evaluate
    from sentiment_model.train import TrainConfig, train
    from tests.factories import TINY_TRAIN

    out = train(TrainConfig(data=labelled_dir, out=tmp_path / "m", device="cuda", seed=3, **TINY_TRAIN))
    meta = checkpoint.read_meta(out)
    assert meta["device"] == "cuda"
    assert evaluate(out, labelled_dir / "test.parquet")["accuracy"] >= 0.9  # evaluated on the CPU


def test_cuda_and_cpu_predictions_agree(tiny_model):
    from sentiment_model.predict import Predictor

    texts = ["love great thanks", "hate awful delayed", "the gate tomorrow", "my flight"]
    cpu = Predictor.load(tiny_model, "cpu").probabilities(texts)
    gpu = Predictor.load(tiny_model, "cuda").probabilities(texts)
    assert torch.allclose(cpu, gpu, atol=1e-4)
