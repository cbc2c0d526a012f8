import pytest
import torch

from sentiment_model import checkpoint
from sentiment_model.data import pad_batch
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.predict import Predictor
from sentiment_model.vocab import Vocab


def test_forward_shapes_and_padding_never_leaks():
    for pooling in ("last", "max", "mean", "max_mean"):
        model = LSTMClassifier(ModelConfig(vocab_size=30, num_classes=3, pooling=pooling)).eval()
        tokens, lengths = pad_batch([[4, 5, 6], [7, 8, 9, 10, 11]])
        logits = model(tokens, lengths)
        assert logits.shape == (2, 3)
        alone = model(torch.tensor([[4, 5, 6]]))
        assert torch.allclose(logits[0], alone[0], atol=1e-6), pooling


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="pooling"):
        ModelConfig(vocab_size=30, num_classes=2, pooling="sum")
    with pytest.raises(ValueError, match="num_classes"):
        ModelConfig(vocab_size=30, num_classes=1)


def test_tiny_model_overfits_a_small_batch():
    torch.manual_seed(0)
    model = LSTMClassifier(ModelConfig(vocab_size=20, num_classes=2, embed_dim=8, hidden_dim=8, dropout=0.0))
    tokens, lengths = pad_batch([[2, 3, 4], [5, 6], [2, 4], [6, 5, 7, 8]])
    targets = torch.tensor([0, 1, 0, 1])
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        loss = torch.nn.functional.cross_entropy(model(tokens, lengths), targets)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.05
    assert model(tokens, lengths).argmax(dim=1).tolist() == targets.tolist()


def test_save_load_gives_identical_predictions(tmp_path):
    config = ModelConfig(vocab_size=12, num_classes=3, embed_dim=8, hidden_dim=8)
    vocab = Vocab(["<pad>", "<unk>", "good", "bad", "ok", *[f"w{i}" for i in range(7)]])
    bundle = checkpoint.ModelBundle(LSTMClassifier(config).eval(), config, vocab, ["a", "b", "c"], 16, "v1")
    checkpoint.save(tmp_path / "m", bundle)
    loaded = checkpoint.load(tmp_path / "m")
    texts = ["good ok", "bad bad w3", "unknown words here"]
    before = Predictor(bundle).probabilities(texts)
    after = Predictor(loaded).probabilities(texts)
    assert torch.equal(before, after)
    assert loaded.labels == ["a", "b", "c"] and loaded.version == "v1" and loaded.vocab.itos == vocab.itos
    # the weights file is a plain state_dict: it loads with weights_only=True
    state = torch.load(tmp_path / "m" / checkpoint.WEIGHTS, weights_only=True)
    assert isinstance(state, dict) and "embedding.weight" in state


def _saved(tmp_path):
    config = ModelConfig(vocab_size=12, num_classes=3, embed_dim=8, hidden_dim=8)
    vocab = Vocab(["<pad>", "<unk>", "good", "bad", "ok", *[f"w{i}" for i in range(7)]])
    bundle = checkpoint.ModelBundle(LSTMClassifier(config).eval(), config, vocab, ["a", "b", "c"], 16, "v1")
    return checkpoint.save(tmp_path / "m", bundle)


def test_tampered_weights_are_refused_with_a_clear_error(tmp_path):
    directory = _saved(tmp_path)
    state = torch.load(directory / checkpoint.WEIGHTS, weights_only=True)
    state["head.bias"] += 1.0  # a quiet change to the numbers
    torch.save(state, directory / checkpoint.WEIGHTS)
    with pytest.raises(ValueError, match="changed after the model was saved"):
        checkpoint.load(directory)


def test_pickled_code_in_the_weights_is_never_run(tmp_path):
    import json
    import pickle

    directory = _saved(tmp_path)

    class Boom:
        def __reduce__(self):
            return (print, ("this must never run",))

    (directory / checkpoint.WEIGHTS).write_bytes(pickle.dumps({"embedding.weight": Boom()}))
    meta = json.loads((directory / checkpoint.META).read_text())
    meta.pop("sha256")  # an artifact from elsewhere, without hashes
    (directory / checkpoint.META).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="not a plain state_dict"):
        checkpoint.load(directory)


def test_weights_from_another_model_are_a_clear_error(tmp_path):
    import json

    directory = _saved(tmp_path)
    other = LSTMClassifier(ModelConfig(vocab_size=20, num_classes=3, embed_dim=8, hidden_dim=8))
    torch.save(other.state_dict(), directory / checkpoint.WEIGHTS)
    meta = json.loads((directory / checkpoint.META).read_text())
    meta.pop("sha256")
    (directory / checkpoint.META).write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="different models"):
        checkpoint.load(directory)
    with pytest.raises(ValueError, match="different models"):
        checkpoint.check(directory)


def test_broken_model_json_is_a_clear_error(tmp_path):
    directory = _saved(tmp_path)
    (directory / checkpoint.META).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        checkpoint.load(directory)
