"""How good a saved model is on labelled data: accuracy, macro-F1 and macro-recall, per-class
precision and recall, the confusion matrix, and the expected calibration error (ECE) before and
after the model's temperature scaling."""

from __future__ import annotations

from pathlib import Path

import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, recall_score

from sentiment_model.calibrate import expected_calibration_error
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
    """The full report for `data` (a Parquet file with text and label)."""
    predictor = predictor or Predictor.load(model_dir)
    labelled = read_labelled(Path(data))
    labels = predictor.bundle.labels
    unknown = sorted(set(labelled.labels) - set(labels))
    if unknown:
        raise ValueError(f"{data} has labels {unknown} that the model does not know (it knows {sorted(labels)})")
    logits = predictor.logits(labelled.texts)
    predicted = [labels[i] for i in logits.argmax(dim=1).tolist()]
    return report(labelled.labels, predicted, labels, logits, predictor.bundle.temperature)


def report(gold: list[str], predicted: list[str], labels: list[str], logits: torch.Tensor, temperature: float) -> dict:
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=labels, zero_division=0
    )
    targets = torch.tensor([labels.index(g) for g in gold])
    return {
        **metrics(gold, predicted, labels),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion": {"labels": labels, "matrix": confusion_matrix(gold, predicted, labels=labels).tolist()},
        "ece": expected_calibration_error(torch.softmax(logits / temperature, -1), targets),
        "ece_uncalibrated": expected_calibration_error(torch.softmax(logits, -1), targets),
        "temperature": temperature,
    }


def format_report(result: dict) -> str:
    """The report as text: headline metrics, a per-class table and the confusion matrix."""
    lines = [
        f"n {result['n']}  accuracy {result['accuracy']:.3f}  macro-F1 {result['macro_f1']:.3f}  "
        f"macro-recall {result['macro_recall']:.3f}",
        f"calibration: ECE {result['ece']:.3f} with temperature {result['temperature']:.2f} "
        f"(ECE {result['ece_uncalibrated']:.3f} without)",
        "",
        f"{'class':<12}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}",
    ]
    for label, row in result["per_class"].items():
        lines.append(f"{label[:11]:<12}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}"
                     f"{row['support']:>9}")
    labels = result["confusion"]["labels"]
    width = max(9, *(len(label) + 1 for label in labels))
    lines += ["", "confusion matrix (rows: true, columns: predicted)",
              " " * 12 + "".join(f"{label[:width - 1]:>{width}}" for label in labels)]
    for label, row in zip(labels, result["confusion"]["matrix"], strict=True):
        lines.append(f"{label[:11]:<12}" + "".join(f"{c:>{width}}" for c in row))
    return "\n".join(lines)
