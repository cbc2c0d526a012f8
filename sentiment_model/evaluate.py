"""Accuracy, macro-F1 and macro-recall of a saved model on a labelled Parquet file."""

from __future__ import annotations

from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score, recall_score

from sentiment_model.data import read_labelled
from sentiment_model.predict import Predictor


def metrics(gold: list[str], predicted: list[str], labels: list[str]) -> dict:
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "macro_recall": float(
            recall_score(gold, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "n": len(gold),
    }


def evaluate(model_dir: Path, data: Path, predictor: Predictor | None = None) -> dict:
    predictor = predictor or Predictor.load(model_dir)
    labelled = read_labelled(data)
    known = set(predictor.bundle.labels)
    unknown = sorted(set(labelled.labels) - known)
    if unknown:
        raise ValueError(
            f"{data} has labels {unknown} that the model does not know (it knows {sorted(known)})"
        )
    predicted = [row["label"] for row in predictor.predict(labelled.texts)]
    return metrics(labelled.labels, predicted, predictor.bundle.labels)
