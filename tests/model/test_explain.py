"""Explanation: the gates are the model's own, the running probabilities are the model's."""

import torch
from typer.testing import CliRunner

from sentiment_cli import app
from sentiment_model import checkpoint
from sentiment_model.explain import explain, gate_trace
from sentiment_model.predict import Predictor


def test_gates_recompute_the_lstm_hidden_states(tiny_model):
    bundle = checkpoint.load(tiny_model)
    ids = bundle.vocab.encode("love the crew but delayed flight".split())
    gates, states = gate_trace(bundle, ids)
    outputs, _, _ = bundle.model.hidden_states(torch.tensor([ids]))
    forward = outputs[0, :, : bundle.model.config.hidden_dim]
    assert torch.allclose(states, forward, atol=1e-5)  # every step, not only the last
    assert gates.shape == (len(ids), 3, bundle.model.config.hidden_dim)
    assert ((gates >= 0) & (gates <= 1)).all()


def test_running_probabilities_end_at_the_models_prediction(tiny_model):
    bundle = checkpoint.load(tiny_model)
    text = "the crew was awesome thanks"
    steps = explain(bundle, text)
    assert [s.token for s in steps] == text.split()
    final = Predictor(bundle).predict([text])[0]["probabilities"]
    for label, p in final.items():
        assert abs(steps[-1].probabilities[label] - p) < 1e-5
    first = Predictor(bundle).predict(["the"])[0]["probabilities"]
    assert abs(steps[0].probabilities["positive"] - first["positive"]) < 1e-5


def test_explain_cli_table_and_png(tiny_model, tmp_path):
    png = tmp_path / "e.png"
    result = CliRunner().invoke(app, ["explain", "--model", str(tiny_model), "love it", "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert "forget" in result.stdout and "love" in result.stdout and png.stat().st_size > 5000


def test_explain_reads_any_script(tiny_model, tmp_path):
    bundle = checkpoint.load(tiny_model)
    for text, words in (
        ("هذا رائع جدا", ["هذا", "رائع", "جدا"]),
        ("मुझे यह पसंद है", ["मुझे", "यह", "पसंद", "है"]),
        ("C'est l'été, j'adore", ["c'", "est", "l'", "été", ",", "j'", "adore"]),
    ):
        steps = explain(bundle, text)
        assert [s.token for s in steps] == words  # words whole (combining marks kept), elisions split
        assert all(abs(sum(s.probabilities.values()) - 1) < 1e-5 for s in steps)
    png = tmp_path / "ar.png"
    result = CliRunner().invoke(app, ["explain", "--model", str(tiny_model), "هذا رائع جدا", "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert "رائع" in result.stdout and png.stat().st_size > 5000
