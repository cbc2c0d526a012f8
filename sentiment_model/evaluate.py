"""How good a saved model is on labelled data: accuracy, macro-F1 and macro-recall, per-class
precision and recall, the confusion matrix, and the expected calibration error (ECE) before and
after the model's temperature scaling."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, recall_score

from sentiment_model.calibrate import expected_calibration_error
from sentiment_model.data import LabelledText, read_labelled
from sentiment_model.predict import Predictor


def metrics(gold: list[str], predicted: list[str], labels: list[str]) -> dict:
    return {
        "accuracy": float(accuracy_score(gold, predicted)),
        "macro_f1": float(f1_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "macro_recall": float(recall_score(gold, predicted, labels=labels, average="macro", zero_division=0)),
        "n": len(gold),
    }


def decide(logits: torch.Tensor, labels: Sequence[str], among: Sequence[str]) -> list[str]:
    """The label of each row: the argmax over the classes in `among` only (all of `labels` when equal)."""
    index = [labels.index(label) for label in among]
    return [among[i] for i in logits[:, index].argmax(dim=1).tolist()]


def evaluate(
    model_dir: Path,
    data: Path,
    predictor: Predictor | None = None,
    subset: bool = True,
    labelled: LabelledText | None = None,
) -> dict:
    """The full report for `data` (a Parquet file with text and label, or `labelled` rows named `data`).

    When the data's labels are a proper subset of the model's (binary reviews on a three-class
    model) and `subset` is on, each text is decided among the data's labels only, and the report
    says so (`decided_among`); the scores and the confusion matrix are over those labels.
    """
    predictor = predictor or Predictor.load(model_dir)
    labelled = labelled or read_labelled(Path(data))
    labels = predictor.bundle.labels
    unknown = sorted(set(labelled.labels) - set(labels))
    if unknown:
        raise ValueError(f"{data} has labels {unknown} that the model does not know (it knows {sorted(labels)})")
    among = [label for label in labels if label in set(labelled.labels)] if subset else list(labels)
    if len(among) < 2:
        among = list(labels)
    logits = predictor.logits(labelled.texts)
    predicted = decide(logits, labels, among)
    index = [labels.index(label) for label in among]
    result = report(labelled.labels, predicted, among, logits[:, index], predictor.bundle.temperature)
    return {**result, "model_labels": list(labels), "decided_among": among}


def report(gold: list[str], predicted: list[str], labels: list[str], logits: torch.Tensor, temperature: float) -> dict:
    precision, recall, f1, support = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
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
        *_subset_line(result),
        "",
        f"{'class':<12}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}",
    ]
    for label, row in result["per_class"].items():
        lines.append(
            f"{label[:11]:<12}{row['precision']:>10.3f}{row['recall']:>8.3f}{row['f1']:>8.3f}{row['support']:>9}"
        )
    labels = result["confusion"]["labels"]
    width = max(9, *(len(label) + 1 for label in labels))
    lines += [
        "",
        "confusion matrix (rows: true, columns: predicted)",
        " " * 12 + "".join(f"{label[: width - 1]:>{width}}" for label in labels),
    ]
    for label, row in zip(labels, result["confusion"]["matrix"], strict=True):
        lines.append(f"{label[:11]:<12}" + "".join(f"{c:>{width}}" for c in row))
    return "\n".join(lines)


def _subset_line(result: dict) -> list[str]:
    among, model = result.get("decided_among"), result.get("model_labels")
    if not among or not model or len(among) == len(model):
        return []
    return [
        f"decided among the data's labels {', '.join(among)} only (the model knows {', '.join(model)}); "
        "--all-labels decides among all of them"
    ]
