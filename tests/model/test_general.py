"""The general model: its training mix (label mapping, no judged split, caps), training with binary
sources, evaluation of binary data on a three-class model, and the cached model."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from bench.general import JUDGED, MULTILINGUAL
from bench.tasks import TASKS
from sentiment_cli import app
from sentiment_model import general_mix
from sentiment_model.data import read_labelled
from sentiment_model.evaluate import decide, evaluate
from sentiment_model.general_model import cached_general_model
from sentiment_model.train import _allowed, labels_by_source
from tests.factories import TINY_TRAIN, labelled_rows, write_labelled_dir


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)


def _binary(n, seed):
    return [r for r in labelled_rows(n, seed) if r["label"] != "neutral"]


EMOTIONS = ["joy", "anger", "sadness", "fear", "neutral", "surprise"]


def write_general_data(root):
    """A datasets directory with a three-way, a binary and an emotion set, each with its judged split."""
    write_labelled_dir(root / "airline_tweets")
    for split, n, seed in (("train", 120, 11), ("validation", 30, 12), ("test", 30, 13)):
        _write(root / "sst2" / f"{split}.parquet", _binary(n, seed))
    emotion = [
        {"text": f"feeling number {i} " + r["text"], "label": EMOTIONS[i % len(EMOTIONS)]}
        for i, r in enumerate(labelled_rows(60, 21))
    ]
    _write(root / "nlp_text_emotion" / "train.parquet", emotion)
    _write(root / "nlp_text_emotion" / "test.parquet", emotion[:6])  # judged: these six must not train
    return root


@pytest.fixture
def general_data(tmp_path):
    return write_general_data(tmp_path / "data")


def test_every_judged_split_of_the_benchmarks_is_kept_out_of_the_mix():
    judged = set(general_mix.JUDGED_SPLITS)
    assert {task.judge for task in TASKS.values()} <= judged
    assert {j.path for j in JUDGED} | {MULTILINGUAL} == judged  # the multilingual split is judged per language
    for part in general_mix.DEFAULT_MIX.parts:
        assert part.train not in judged and part.select not in judged, part.source


def test_mix_maps_labels_to_polarity_and_tags_sources(general_data, tmp_path):
    mix = general_mix.build(general_data, tmp_path / "mix")
    train = read_labelled(mix / "train.parquet")
    by_source = labels_by_source(train)
    assert by_source == {
        "airline_tweets": ["negative", "neutral", "positive"],
        "sst2": ["negative", "positive"],
        "nlp_text_emotion": ["negative", "neutral", "positive"],
    }
    emotion = pq.read_table(general_data / "nlp_text_emotion" / "train.parquet").to_pylist()
    original = {r["text"]: r["label"] for r in emotion}
    for text, label, source in zip(train.texts, train.labels, train.sources, strict=True):
        if source == "nlp_text_emotion":
            assert label == general_mix.EMOTION_POLARITY[original[text]]
    assert not any(original.get(t) == "surprise" for t in train.texts)  # no polarity: left out
    report = json.loads((mix / "mix.json").read_text())["sources"]
    assert report["nlp_text_emotion"]["judged"] > 0  # the judged rows that were not held out for selection


def test_the_multilingual_set_joins_with_its_languages_and_its_validation_split_stays_out(general_data, tmp_path):
    tweets = [
        {**r, "text": f"{lang} tweet {i} {r['text']}", "lang": lang}
        for i, (r, lang) in enumerate(
            zip(labelled_rows(70, 41), ["fr", "de", "hi", "ar", "es", "it", "pt"] * 10, strict=True)
        )
    ]
    _write(general_data / "umsab_multilingual" / "train.parquet", tweets[:60])
    _write(general_data / "umsab_multilingual" / "validation.parquet", tweets[60:])
    assert "umsab_multilingual" not in {
        r["source"]
        for r in pq.read_table(
            general_mix.build(general_data, tmp_path / "english", general_mix.ENGLISH_MIX) / "train.parquet"
        ).to_pylist()
    }
    mix = general_mix.build(general_data, tmp_path / "mix")  # the default mix: eight languages
    rows = pq.read_table(mix / "train.parquet").to_pylist() + pq.read_table(mix / "validation.parquet").to_pylist()
    umsab = [r for r in rows if r["source"] == "umsab_multilingual"]
    assert len(umsab) == 60 and {r["lang"] for r in umsab} == {"fr", "de", "hi", "ar", "es", "it", "pt"}
    assert all(r["text"].startswith(r["lang"]) for r in umsab)  # each row keeps its own language
    assert {r["lang"] for r in rows if r["source"] != "umsab_multilingual"} == {"en"}
    judged = {r["text"] for r in tweets[60:]}
    assert not judged & {r["text"] for r in rows}  # the validation split is judged, never trained or selected on


def test_no_judged_text_reaches_training_or_selection(general_data, tmp_path):
    judged_text = pq.read_table(general_data / "airline_tweets" / "test.parquet").to_pylist()[0]["text"]
    sst2 = pq.read_table(general_data / "sst2" / "train.parquet").to_pylist()
    sst2.append({"text": "  " + judged_text.upper() + " ", "label": "positive"})  # the same text, recased
    _write(general_data / "sst2" / "train.parquet", sst2)
    mix = general_mix.build(general_data, tmp_path / "mix")
    banned = general_mix.judged_texts(general_data)
    assert general_mix.normalise(judged_text) in banned
    for split in ("train", "validation"):
        rows = read_labelled(mix / f"{split}.parquet")
        assert rows.texts and not {general_mix.normalise(t) for t in rows.texts} & banned, split


def test_caps_sample_a_source_and_the_cache_follows_the_data(general_data, tmp_path):
    capped = general_mix.MixConfig(parts=(general_mix.Part("sst2", "sst2/train.parquet", "sst2/test.parquet", cap=25),))
    mix = general_mix.build(general_data, tmp_path / "mix", capped)
    assert len(read_labelled(mix / "train.parquet").texts) == 25
    first = general_mix.cached(general_data, tmp_path / "cache")
    assert general_mix.cached(general_data, tmp_path / "cache") == first
    _write(general_data / "sst2" / "train.parquet", _binary(90, 5))
    assert general_mix.cached(general_data, tmp_path / "cache") != first


def test_binary_rows_decide_only_between_their_own_labels(general_data, tmp_path):
    train = read_labelled(general_mix.build(general_data, tmp_path / "mix") / "train.parquet")
    labels = ["negative", "neutral", "positive"]
    allowed = _allowed(train, labels_by_source(train), labels)
    for row, source in zip(allowed.tolist(), train.sources, strict=True):
        assert row == ([True, False, True] if source == "sst2" else [True, True, True])
    logits = torch.tensor([[0.0, 5.0, 1.0], [2.0, 5.0, 1.0]])
    assert decide(logits, labels, ["negative", "positive"]) == ["positive", "negative"]
    assert decide(logits, labels, labels) == ["neutral", "neutral"]


def test_binary_data_on_a_three_class_model(tiny_model, tmp_path):
    data = tmp_path / "binary.parquet"
    _write(data, _binary(60, 4))
    subset = evaluate(tiny_model, data)
    assert subset["decided_among"] == ["negative", "positive"] and subset["model_labels"] == [
        "negative",
        "neutral",
        "positive",
    ]
    assert subset["confusion"]["labels"] == ["negative", "positive"] and len(subset["confusion"]["matrix"]) == 2
    assert subset["n"] == 40 and set(subset["per_class"]) == {"negative", "positive"}
    everything = evaluate(tiny_model, data, subset=False)
    assert everything["decided_among"] == ["negative", "neutral", "positive"]
    assert subset["accuracy"] >= everything["accuracy"]
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_model), "--data", str(data)])
    assert result.exit_code == 0 and "decided among the data's labels negative, positive only" in result.output
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tiny_model), "--data", str(data), "--json"])
    assert json.loads(result.output)["decided_among"] == ["negative", "positive"]


def test_general_model_is_trained_once_and_reused(general_data, tmp_path):
    overrides = {**TINY_TRAIN, "epochs": 2, "embeddings": "none"}
    args = (general_data, tmp_path / "cache", tmp_path / "vectors", overrides)
    model, trained = cached_general_model(*args)
    meta = json.loads((model / "model.json").read_text())
    assert trained and meta["labels"] == ["negative", "neutral", "positive"]
    assert set(meta["data"]["mix"]) == {"airline_tweets", "sst2", "nlp_text_emotion"}
    assert set(meta["history"][0]["sources"]) == {"airline_tweets", "sst2", "nlp_text_emotion"}
    again, trained = cached_general_model(*args)
    assert again == model and not trained
    _write(general_data / "sst2" / "train.parquet", _binary(90, 5))  # new data: a new model
    other, trained = cached_general_model(*args)
    assert trained and other != model


def test_a_model_trained_on_short_cuts_reads_longer_texts_when_told(labelled_dir, tmp_path):
    from sentiment_model.train import TrainConfig, train

    out = train(
        TrainConfig(data=labelled_dir, out=tmp_path / "m", max_tokens=8, read_tokens=20, **{**TINY_TRAIN, "epochs": 1})
    )
    meta = json.loads((out / "model.json").read_text())
    assert meta["max_tokens"] == 20 and meta["train_config"]["max_tokens"] == 8
