"""The model run by ONNX Runtime: its export gives PyTorch's logits on mixed-length batches, and
the scoring job with either backend stores the same labels and (within float32 rounding) the
same probabilities and aggregates."""

import numpy as np
import pytest
import torch

from pipelines.score import ScoreJob, score_range
from sentiment.query import run_query
from sentiment_model import checkpoint, onnx_export
from sentiment_model.predict import Predictor
from tests.factories import make_lake

START, END = "2015-02-17", "2015-02-19"


def test_the_export_gives_the_models_logits_and_is_made_once(tiny_model, tmp_path):
    path = onnx_export.exported(tiny_model, tmp_path / "onnx")
    made = path.stat().st_mtime_ns
    assert onnx_export.exported(tiny_model, tmp_path / "onnx") == path and path.stat().st_mtime_ns == made
    model = checkpoint.load(tiny_model, "cpu").model.eval()
    tokens = torch.tensor([[5, 6, 7, 8, 9], [5, 9, 0, 0, 0], [7, 0, 0, 0, 0]])
    lengths = torch.tensor([5, 2, 1])
    with torch.no_grad():
        expected = model(tokens, lengths)
    got = onnx_export.logits(onnx_export.session(path, threads=1), tokens, lengths)
    assert torch.allclose(expected, got, atol=1e-5)


def test_the_predictor_gives_the_same_labels_with_either_backend(tiny_model, tmp_path):
    texts = ["great flight, thanks!", "worst delay ever", "ok", "the crew was lovely and the food was bad " * 5]
    torch_probs = Predictor.load(tiny_model).probabilities(texts)
    onnx_probs = Predictor.load(tiny_model, onnx_path=onnx_export.exported(tiny_model, tmp_path)).probabilities(texts)
    assert torch.equal(torch_probs.argmax(1), onnx_probs.argmax(1))
    assert torch.allclose(torch_probs, onnx_probs, atol=1e-5)


def test_scoring_with_onnx_runtime_stores_what_pytorch_stores(tiny_model, tmp_path):
    tables = {}
    for backend in ("torch", "onnx"):
        warehouse = make_lake(tmp_path / backend, tiny_model)
        summary = score_range(ScoreJob(home=warehouse.root, start=START, end=END, backend=backend))
        assert summary.counters["documents_scored"] > 0
        tables[backend] = (
            run_query(warehouse, "SELECT * FROM scored ORDER BY doc_id"),
            run_query(warehouse, "SELECT * FROM daily_sentiment ORDER BY date, source, lang"),
        )
    (scored_t, daily_t), (scored_o, daily_o) = tables["torch"], tables["onnx"]
    assert scored_t["doc_id"].tolist() == scored_o["doc_id"].tolist()
    assert scored_t["label"].tolist() == scored_o["label"].tolist()
    for column in ("p_negative", "p_neutral", "p_positive"):
        assert np.abs(scored_t[column] - scored_o[column]).max() < 1e-5
    assert daily_t["documents"].tolist() == daily_o["documents"].tolist()
    assert np.abs(daily_t["mean_score"] - daily_o["mean_score"]).max() < 1e-6


def test_backend_choices_are_checked():
    with pytest.raises(ValueError, match="backend must be"):
        ScoreJob(home=".", start=START, end=END, backend="tensorrt")
    with pytest.raises(ValueError, match="onnx backend runs on the CPU"):
        ScoreJob(home=".", start=START, end=END, backend="onnx", device="cuda")
    # the default, by measurement: ONNX Runtime on the CPU; PyTorch on a GPU
    assert ScoreJob(home=".", start=START, end=END).backend == "onnx"
    assert ScoreJob(home=".", start=START, end=END, device="cuda").backend == "torch"
