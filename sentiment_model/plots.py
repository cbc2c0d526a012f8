"""Charts for training and evaluation: the training curve and the confusion matrix."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def training_curve(history: list[dict], metric: str, path: Path) -> Path:
    """Training loss and the validation metric per epoch, the best epoch marked."""
    epochs = [h["epoch"] for h in history]
    fig, loss_ax = plt.subplots(figsize=(6.5, 3.6))
    loss_ax.plot(epochs, [h["train_loss"] for h in history], "o-", color="tab:gray", label="training loss")
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("training loss")
    score_ax = loss_ax.twinx()
    scores = [h[metric] for h in history]
    score_ax.plot(epochs, scores, "o-", color="tab:blue", label=f"validation {metric}")
    best = max(range(len(scores)), key=scores.__getitem__)
    score_ax.axvline(epochs[best], color="tab:blue", linestyle=":", linewidth=1)
    score_ax.set_ylabel(f"validation {metric}")
    handles = loss_ax.get_legend_handles_labels()[0] + score_ax.get_legend_handles_labels()[0]
    loss_ax.legend(handles, [h.get_label() for h in handles], loc="center right", fontsize=8)
    loss_ax.set_title(f"training curve (best epoch {epochs[best]}: {scores[best]:.3f})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_matrix_png(matrix: list[list[int]], labels: list[str], path: Path, title: str) -> Path:
    """Rows: true label; columns: predicted; each cell its count and row share."""
    size = 1.2 + 0.9 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    totals = [max(1, sum(row)) for row in matrix]
    shares = [[c / t for c in row] for row, t in zip(matrix, totals, strict=True)]
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            ax.text(
                j,
                i,
                f"{count}\n{shares[i][j]:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if shares[i][j] > 0.6 else "black",
            )
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
