import json

import pytest

from sentiment_model import checkpoint
from sentiment_model.evaluate import evaluate, format_report
from sentiment_model.predict import Predictor, sentiment_score
from sentiment_model.train import TrainConfig
from tests.factories import TINY_TRAIN


def test_trained_model_learns_the_cue_words(tiny_model, labelled_dir):
    result = evaluate(tiny_model, labelled_dir / "test.parquet")
    assert result["n"] == 60
    assert result["accuracy"] >= 0.9, result
    meta = json.loads((tiny_model / checkpoint.META).read_text())
    assert meta["labels"] == ["negative", "neutral", "positive"]
    assert meta["metrics"]["validation"]["accuracy"] >= 0.9
    assert 1 <= len(meta["history"]) <= TINY_TRAIN["epochs"]


def test_evaluation_report_adds_up(tiny_model, labelled_dir):
    result = evaluate(tiny_model, labelled_dir / "test.parquet")
    matrix = result["confusion"]["matrix"]
    assert result["confusion"]["labels"] == ["negative", "neutral", "positive"]
    assert sum(map(sum, matrix)) == result["n"]
    assert sum(matrix[i][i] for i in range(3)) / result["n"] == pytest.approx(result["accuracy"])
    per_class = result["per_class"]
    assert [per_class[k]["support"] for k in result["confusion"]["labels"]] == [sum(r) for r in matrix]
    assert sum(v["recall"] for v in per_class.values()) / 3 == pytest.approx(result["macro_recall"])
    assert 0 <= result["ece"] <= 1 and 0 <= result["ece_uncalibrated"] <= 1
    text = format_report(result)
    assert "confusion matrix" in text and "precision" in text


def test_predict_gives_labels_probabilities_and_score(tiny_model):
    rows = Predictor.load(tiny_model).predict(["love love great", "hate awful worst"])
    assert [r["label"] for r in rows] == ["positive", "negative"]
    for row in rows:
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-5
        assert -1 <= row["score"] <= 1
    assert rows[0]["score"] > 0 > rows[1]["score"]


def test_score_needs_positive_and_negative():
    assert sentiment_score(["negative", "positive"], [0.25, 0.75]) == 0.5
    assert sentiment_score(["joy", "anger"], [0.5, 0.5]) is None


def test_bad_configuration_says_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="device must be"):
        TrainConfig(data=tmp_path, out=tmp_path, device="tpu")
    with pytest.raises(ValueError, match="positive"):
        TrainConfig(data=tmp_path, out=tmp_path, epochs=0)


def test_evaluate_rejects_labels_the_model_does_not_know(tiny_model, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"text": ["hi"], "label": ["joy"]}), tmp_path / "other.parquet")
    with pytest.raises(ValueError, match="does not know"):
        evaluate(tiny_model, tmp_path / "other.parquet")
