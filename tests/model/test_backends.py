"""The model run by ONNX Runtime or folded: each gives PyTorch's logits on mixed-length batches,
and the scoring job with any backend stores the same labels and (within float32 rounding) the
same probabilities and aggregates."""

import numpy as np
import pytest
import torch

from pipelines.score import ScoreJob, score_range
from sentiment.query import run_query
from sentiment_model import checkpoint, folded, onnx_export
from sentiment_model.model import LSTMClassifier, ModelConfig
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


@pytest.mark.parametrize("pooling", ["last", "max", "mean", "max_mean"])
@pytest.mark.parametrize("bidirectional", [True, False])
def test_the_folded_model_gives_the_models_logits(pooling, bidirectional):
    torch.manual_seed(0)
    config = ModelConfig(
        vocab_size=300, num_classes=3, embed_dim=16, hidden_dim=24, pooling=pooling, bidirectional=bidirectional
    )
    model = LSTMClassifier(config).eval()
    run = folded.FoldedModel(model, folded.gate_table(model))
    lengths = torch.tensor([1, 40, 7, 40, 3, 19])  # ties and a one-token text, in no order
    tokens = torch.randint(2, 300, (6, 40))
    tokens[torch.arange(40)[None, :] >= lengths[:, None]] = 0
    with torch.no_grad():
        expected = model(tokens, lengths)
    assert (expected - run(tokens, lengths)).abs().max() < 1e-5


def test_a_documents_folded_logits_do_not_depend_on_its_batch(tiny_model, tmp_path):
    """Bit for bit, alone or among any others: so batches may be joined freely without a table changing."""
    run = folded.load(tiny_model, tmp_path)
    generator = torch.Generator().manual_seed(1)
    lengths = torch.randint(1, 60, (40,), generator=generator)
    tokens = torch.randint(2, run.config.vocab_size, (40, 60), generator=generator)
    tokens[torch.arange(60)[None, :] >= lengths[:, None]] = 0
    together = run(tokens, lengths)
    for i in range(40):
        assert torch.equal(run(tokens[i : i + 1], lengths[i : i + 1])[0], together[i])
    for size in (2, 5, 17):
        rows = torch.randperm(40, generator=generator)[:size]
        assert torch.equal(run(tokens[rows], lengths[rows]), together[rows])


def test_the_gate_table_is_cached_once_and_checked_on_load(tiny_model, tmp_path):
    first = folded.load(tiny_model, tmp_path)
    (path,) = tmp_path.glob("gates-*.npy")
    made = path.stat().st_mtime_ns
    second = folded.load(tiny_model, tmp_path)
    assert path.stat().st_mtime_ns == made
    assert second.tables[0].shape == first.tables[0].shape
    table = np.load(path)
    table[:, 5:] += 0.5  # a damaged cache
    np.save(path, table)
    with pytest.raises(RuntimeError, match="folded model differs from the model"):
        folded.load(tiny_model, tmp_path)


def test_a_model_of_several_layers_does_not_fold(tiny_model):
    model = LSTMClassifier(ModelConfig(vocab_size=50, num_classes=2, num_layers=2))
    with pytest.raises(ValueError, match="only a one-layer LSTM folds .* use --backend onnx"):
        folded.FoldedModel(model, np.zeros((2, 50, 512), np.float32))


def test_the_predictor_gives_the_same_labels_with_every_backend(tiny_model, tmp_path):
    texts = ["great flight, thanks!", "worst delay ever", "ok", "the crew was lovely and the food was bad " * 5]
    torch_probs = Predictor.load(tiny_model).probabilities(texts)
    for other in (
        Predictor.load(tiny_model, onnx_path=onnx_export.exported(tiny_model, tmp_path)),
        Predictor.load(tiny_model, folded_cache=tmp_path),
    ):
        probs = other.probabilities(texts)
        assert torch.equal(torch_probs.argmax(1), probs.argmax(1))
        assert torch.allclose(torch_probs, probs, atol=1e-5)


@pytest.mark.parametrize("backend", ["onnx", "folded"])
def test_scoring_on_a_cpu_backend_stores_what_pytorch_stores(tiny_model, tmp_path, backend):
    tables = {}
    for name in ("torch", backend):
        warehouse = make_lake(tmp_path / name, tiny_model)
        summary = score_range(ScoreJob(home=warehouse.root, start=START, end=END, backend=name))
        assert summary.counters["documents_scored"] > 0
        tables[name] = (
            run_query(warehouse, "SELECT * FROM scored ORDER BY doc_id"),
            run_query(warehouse, "SELECT * FROM daily_sentiment ORDER BY date, source, lang"),
        )
    (scored_t, daily_t), (scored_o, daily_o) = tables["torch"], tables[backend]
    assert scored_t["doc_id"].tolist() == scored_o["doc_id"].tolist()
    assert scored_t["label"].tolist() == scored_o["label"].tolist()
    for column in ("p_negative", "p_neutral", "p_positive"):
        assert np.abs(scored_t[column] - scored_o[column]).max() < 1e-5
    assert daily_t["documents"].tolist() == daily_o["documents"].tolist()
    assert np.abs(daily_t["mean_score"] - daily_o["mean_score"]).max() < 1e-6


def test_backend_choices_are_checked():
    with pytest.raises(ValueError, match="backend must be"):
        ScoreJob(home=".", start=START, end=END, backend="tensorrt")
    for backend in ("onnx", "folded"):
        with pytest.raises(ValueError, match=f"{backend} backend runs on the CPU"):
            ScoreJob(home=".", start=START, end=END, backend=backend, device="cuda")
    # the default, by measurement: folded on the CPU (ONNX Runtime where it does not fold); PyTorch on a GPU
    job = ScoreJob(home=".", start=START, end=END)
    one_layer = {"model_config": ModelConfig(vocab_size=50, num_classes=2).to_dict()}
    two_layers = {"model_config": ModelConfig(vocab_size=50, num_classes=2, num_layers=2).to_dict()}
    assert job.backend_for(one_layer) == "folded" and job.backend_for(two_layers) == "onnx"
    assert ScoreJob(home=".", start=START, end=END, device="cuda").backend_for(one_layer) == "torch"
