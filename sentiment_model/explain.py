"""Token-by-token explanation: running class probabilities and the LSTM's own gate activations.

For each token t of a text:
  - the class probabilities of the model applied to the text up to t (how the sentiment swings);
  - the mean activation of the input, forget and output gates of the first LSTM layer, reading
    forwards, recomputed from the layer's weights (PyTorch's gate order: input, forget, cell, output):
        i, f, g, o = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        c_t = sigmoid(f) * c_{t-1} + sigmoid(i) * tanh(g);  h_t = sigmoid(o) * tanh(c_t)
    so they are the model's real gates: h_t recomputed this way equals nn.LSTM's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from sentiment_model.checkpoint import ModelBundle
from sentiment_model.tokenize import tokenize


@dataclass
class TokenStep:
    token: str
    probabilities: dict[str, float]  # of the text up to and including this token
    input_gate: float  # mean over hidden units, forward direction, first layer
    forget_gate: float
    output_gate: float


@torch.no_grad()
def gate_trace(bundle: ModelBundle, ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-token gates [T, 3, H] (input, forget, output) and hidden states [T, H], forward direction."""
    lstm = bundle.model.lstm
    w_ih, w_hh = lstm.weight_ih_l0, lstm.weight_hh_l0
    b = lstm.bias_ih_l0 + lstm.bias_hh_l0
    x = bundle.model.embedding(torch.tensor(ids))
    hidden = lstm.hidden_size
    h, c = torch.zeros(hidden), torch.zeros(hidden)
    gates, states = [], []
    for x_t in x:
        i, f, g, o = (x_t @ w_ih.T + h @ w_hh.T + b).split(hidden)
        i, f, o, g = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o), torch.tanh(g)
        c = f * c + i * g
        h = o * torch.tanh(c)
        gates.append(torch.stack([i, f, o]))
        states.append(h)
    return torch.stack(gates), torch.stack(states)


@torch.no_grad()
def explain(bundle: ModelBundle, text: str) -> list[TokenStep]:
    tokens = bundle.vocab.pieces(tokenize(text)[: bundle.max_tokens])[: bundle.max_tokens]
    if not tokens:
        raise ValueError("the text has no tokens to explain")
    ids = bundle.vocab.encode(tokens)
    bundle.model.eval()
    prefixes = torch.zeros(len(ids), len(ids), dtype=torch.long)
    for t in range(len(ids)):
        prefixes[t, : t + 1] = torch.tensor(ids[: t + 1])
    probs = torch.softmax(bundle.model(prefixes, torch.arange(1, len(ids) + 1)) / bundle.temperature, dim=-1)
    gates, _ = gate_trace(bundle, ids)
    means = gates.mean(dim=2)
    return [
        TokenStep(token, dict(zip(bundle.labels, p.tolist(), strict=True)), *means[t].tolist())
        for t, (token, p) in enumerate(zip(tokens, probs, strict=True))
    ]


def plot_explanation(steps: list[TokenStep], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(steps[0].probabilities)
    grid = [[s.probabilities[label] for s in steps] for label in labels]
    grid += [[s.input_gate for s in steps], [s.forget_gate for s in steps], [s.output_gate for s in steps]]
    rows = [f"P({label})" for label in labels] + ["input gate", "forget gate", "output gate"]
    fig, ax = plt.subplots(figsize=(max(6, 0.75 * len(steps) + 2), 3.6), dpi=110)
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(steps)), [s.token for s in steps], rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    for y, row in enumerate(grid):
        for x, value in enumerate(row):
            ax.text(
                x, y, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.6 else "black"
            )
    ax.axhline(len(labels) - 0.5, color="white", linewidth=2)
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.025)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
