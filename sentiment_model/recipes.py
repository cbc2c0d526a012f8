"""Named training recipes, and the one chosen automatically from the data's size and text length.

A recipe fills only the settings a user left unset, so an explicit flag or config
value always wins. The numbers are the best measured by `python -m bench.accuracy`
(docs/model.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

# Settings per recipe; anything not named here keeps TrainConfig's default (max_vocab: 30,000).
RECIPES: dict[str, dict] = {
    # sentences and tweets (median under 48 tokens)
    "short": {"max_tokens": 128, "batch_size": 64, "epochs": 10, "lr": 2e-3, "dropout": 0.5, "patience": 5},
    # few thousand short texts: more passes, longer patience
    "small": {"max_tokens": 128, "batch_size": 32, "epochs": 20, "lr": 2e-3, "dropout": 0.5, "patience": 5},
    # the general mix (several sources, sentiment_model.general): 46k texts, ~50 s an epoch on 2 cores
    "general": {
        "max_tokens": 128,
        "read_tokens": 400,
        "batch_size": 64,
        "epochs": 6,
        "lr": 2e-3,
        "dropout": 0.5,
        "patience": 3,
    },
    # reviews and articles: longer cut, smaller batches
    "long": {"max_tokens": 400, "batch_size": 32, "epochs": 4, "lr": 2e-3, "dropout": 0.5, "patience": 2},
}
SMALL_ROWS = 5000  # fewer training rows than this -> "small"
LONG_MEDIAN_TOKENS = 48  # a longer median text -> "long"


def choose(n_rows: int, lengths: Sequence[int], sources: int = 1) -> str:
    """The recipe for `n_rows` training texts with these token counts (a sample is enough) from `sources`
    datasets (a mix of several gets the general recipe)."""
    if sources > 1:
        return "general"
    if lengths and statistics.median(lengths) > LONG_MEDIAN_TOKENS:
        return "long"
    return "small" if n_rows < SMALL_ROWS else "short"


def settings(name: str) -> dict:
    if name not in RECIPES:
        raise ValueError(f"unknown recipe {name!r}; choose auto or one of {sorted(RECIPES)}")
    return dict(RECIPES[name])
