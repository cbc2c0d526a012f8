"""The pretrained bidirectional language model: its corpus, its training, and the classifier that starts from it."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import torch

from sentiment_model import pretrain
from sentiment_model.model import LSTMClassifier, ModelConfig
from sentiment_model.train import TrainConfig, train
from sentiment_model.vocab import Vocab
from tests.factories import TINY_TRAIN, labelled_rows, write_labelled_dir

TINY_LM = pretrain.PretrainConfig(embed_dim=24, hidden_dim=24, min_freq=1, epochs=3, batch_size=16, lr=1e-2)


def test_corpus_has_training_text_and_never_a_judged_text(tmp_path):
    data = write_labelled_dir(tmp_path / "data" / "airline_tweets")
    judged = pq.read_table(data / "test.parquet").column("text").to_pylist()
    rows = labelled_rows(40, 9) + [{"text": judged[0], "label": "neutral"}]
    (tmp_path / "data" / "reddit_worldnews").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "data" / "reddit_worldnews" / "all.parquet")
    texts = pretrain.pretraining_texts(tmp_path / "data")
    train_texts = pq.read_table(data / "train.parquet").column("text").to_pylist()
    assert set(train_texts) <= set(texts) and judged[0] not in texts


def test_language_model_learns_and_starts_the_classifier(tmp_path, labelled_dir):
    texts = [r["text"] for r in labelled_rows(400, 5)]
    path = pretrain.pretrain(texts, tmp_path / "lm.pt", TINY_LM)
    lm = pretrain.load(path)
    losses = [h["loss"] for h in lm["history"]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    assert set(lm["state"]) == {k for k in lm["state"] if k.startswith(("embedding.", "lstm."))}

    vocab = Vocab(["<pad>", "<unk>", "love", "no-such-word"])
    model = LSTMClassifier(ModelConfig(vocab_size=4, num_classes=3, embed_dim=24, hidden_dim=24))
    assert pretrain.start_from(model, vocab, lm) == 3  # <pad>, <unk>, love
    assert torch.equal(model.lstm.weight_hh_l0, lm["state"]["lstm.weight_hh_l0"])
    love = lm["vocab"].index("love")
    assert torch.equal(model.embedding.weight[2], lm["state"]["embedding.weight"][love])

    out = train(TrainConfig(data=labelled_dir, out=tmp_path / "m", pretrained=path, seed=3, **TINY_TRAIN))
    meta = json.loads((out / "model.json").read_text())
    assert meta["train_config"]["pretrained"] == str(path) and meta["metrics"]["validation"]["accuracy"] > 0.8


def test_a_language_model_of_another_size_is_refused_with_a_reason(tmp_path, labelled_dir):
    path = pretrain.pretrain([r["text"] for r in labelled_rows(100, 5)], tmp_path / "lm.pt", TINY_LM)
    cfg = TrainConfig(data=labelled_dir, out=tmp_path / "m", pretrained=path, **{**TINY_TRAIN, "hidden_dim": 32})
    try:
        train(cfg)
    except ValueError as err:
        assert "does not fit this classifier" in str(err)
    else:
        raise AssertionError("a language model of another size was accepted")
