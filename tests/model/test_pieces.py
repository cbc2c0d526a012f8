"""Word pieces: words outside the vocabulary read by their parts, the same in training, explain and scoring."""

from datetime import UTC, datetime

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.testing.util import assert_that, equal_to

from pipelines.encode import EncodeDocuments
from sentiment_model import checkpoint
from sentiment_model.explain import explain
from sentiment_model.predict import Predictor
from sentiment_model.tokenize import tokenize
from sentiment_model.train import TrainConfig, train
from sentiment_model.vocab import UNK, UNK_ID, Vocab, learn_pieces
from tests.factories import TINY_TRAIN, beam_test_pipeline


def test_an_unseen_word_is_read_by_the_pieces_it_shares_with_rare_words(tmp_path):
    docs = [
        tokenize(t)
        for t in ("gracias gracias mundo mundo", "graciosa graciosos mundial mundialista", "realmente finalmente")
    ]
    vocab = Vocab.build(docs, min_freq=2, max_size=10, pieces=200)
    assert vocab.itos[2:4] == ["gracias", "mundo"] and vocab.has_pieces
    assert vocab.pieces(["gracias", "mundialmente"]) == ["gracias", "▁mundia", "##lmente"]
    assert vocab.pieces(["graciosísimo"])[:2] == ["▁gracio", "##s"]  # longest known start first
    assert vocab.pieces(["qq"]) == [UNK, UNK]  # characters no rare word had
    assert vocab.encode(["mundo", "mundialmente"]) == [3, vocab.stoi["▁mundia"], vocab.stoi["##lmente"]]
    vocab.save(tmp_path / "vocab.json")
    again = Vocab.load(tmp_path / "vocab.json")
    assert again.has_pieces and again.encode(["finalísimo"]) == vocab.encode(["finalísimo"])
    plain = Vocab.build(docs, min_freq=2, max_size=10)
    assert not plain.has_pieces and plain.encode(["mundialmente"]) == [UNK_ID]


def test_pieces_cover_every_character_first_and_only_what_was_seen_twice():
    pieces = learn_pieces({"abc": 1, "abd": 1}, size=8)
    assert pieces == ["##b", "▁a", "##c", "##d", "▁ab"]  # characters first, then by count
    assert "▁abc" not in pieces  # seen once
    assert learn_pieces({"abc": 1}, size=2) == ["##b", "##c"]  # ranked by count, then by piece


def _rare_words_data(directory, n=120):
    """Each text's cue word is seen once: a stem ("wonder", "horribl") with its own ending."""
    import random

    rng = random.Random(5)
    rows = {"train": ([], []), "validation": ([], [])}
    for i in range(n):
        ending = "".join(rng.choice("aeiklmnorstuy") for _ in range(4))
        positive = i % 2 == 0
        split = "validation" if i % 6 in (0, 1) else "train"
        rows[split][0].append(f"the trip was {'wonder' if positive else 'horribl'}{ending} today")
        rows[split][1].append("positive" if positive else "negative")
    directory.mkdir()
    for split, (texts, labels) in rows.items():
        pq.write_table(pa.table({"text": texts, "label": labels}), directory / f"{split}.parquet")
    return directory


def test_a_model_with_pieces_reads_unseen_words_in_predict_explain_and_the_scoring_job(tmp_path):
    data = _rare_words_data(tmp_path / "data")
    model = train(TrainConfig(data=data, out=tmp_path / "m", seed=3, **{**TINY_TRAIN, "min_freq": 2}, pieces=300))
    bundle = checkpoint.load(model)
    assert bundle.vocab.has_pieces and json_config(model)["pieces"] == 300
    predicted = Predictor(bundle).predict(["the trip was wonderfulness", "the trip was horribleness"])
    labels = [p["label"] for p in predicted]
    assert labels == ["positive", "negative"]  # words never seen, read by their stems
    text = "the trip was wonderfulness"
    steps = explain(bundle, text)
    assert [s.token for s in steps] == bundle.vocab.pieces(tokenize(text))
    assert [s.token for s in steps][:4] == ["the", "trip", "was", "▁wonder"]
    table = pa.table(
        {
            "doc_id": ["d:1"],
            "source": ["d"],
            "lang": ["en"],
            "text": [text],
            "published_at": pa.array([datetime(2025, 3, 2, 8, tzinfo=UTC)], pa.timestamp("us", tz="UTC")),
        }
    )
    expected = bundle.vocab.encode(tokenize(text))
    with beam_test_pipeline() as p:
        encoded = p | beam.Create([table]) | EncodeDocuments(str(model))
        ids = encoded.encoded | beam.FlatMap(lambda batch: [batch.ids.tolist()])
        assert_that(ids, equal_to([expected]))


def json_config(model):
    import json

    return json.loads((model / "model.json").read_text())["train_config"]
