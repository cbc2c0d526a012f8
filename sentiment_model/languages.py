"""Which languages a model reads, and which documents a scoring job gives it.

A model states the languages it reads in model.json (`languages`), taken from its training
data when it is trained: a `lang` column where the data has one, else the languages
identified on a sample of its texts; a language counts when it has at least MIN_SHARE of
the rows. Scoring gives the model only documents in those languages, plus `und` (the
identifier could not tell: mostly short texts, emoji and links, which in a source of one
language are that language); the others are skipped with the reason `language_<code>`,
counted per language, and kept out of the aggregate tables. `--languages all` scores every
document anyway; a list (`en,und`) chooses.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

UNDETERMINED = "und"
# Models saved before languages were recorded: every one of them was trained on English sets.
ASSUMED = ("en",)
MIN_SHARE = 0.02  # of the training rows, for a language to count as one the model reads
SAMPLE = 5000  # texts identified when the training data has no `lang` column


def model_languages(meta: dict) -> tuple[str, ...]:
    """The languages the model in `meta` (model.json) reads."""
    return tuple(meta.get("languages") or ASSUMED)


def training_languages(
    texts: Sequence[str], langs: Sequence[str | None] | None = None, seed: int = 13, sample: int = SAMPLE
) -> dict[str, int]:
    """Rows per language in training data: the rows' own `lang` where given, the rest identified
    (on a seeded sample of at most `sample` texts, scaled up to their number)."""
    from sentiment.language import detect_languages

    langs = list(langs) if langs is not None else [None] * len(texts)
    counts = Counter(lang for lang in langs if lang)
    missing = [i for i, lang in enumerate(langs) if not lang]
    if missing:
        chosen = random.Random(seed).sample(missing, min(sample, len(missing)))
        found = Counter(detect_languages([texts[i] for i in chosen]))
        scale = len(missing) / len(chosen)
        for lang, n in found.items():
            counts[lang] += round(n * scale)
    return dict(counts.most_common())


def reads(counts: dict[str, int], min_share: float = MIN_SHARE) -> list[str]:
    """The languages with at least `min_share` of the rows (never `und`), sorted."""
    total = sum(counts.values())
    return sorted(lang for lang, n in counts.items() if lang != UNDETERMINED and total and n / total >= min_share)


def scoring_languages(meta: dict, choice: str = "model") -> frozenset[str] | None:
    """The document languages a job scores: "model" (the model's, and und), "all" (None: every
    document), or a comma-separated list of codes."""
    choice = (choice or "model").strip()
    if choice == "all":
        return None
    if choice == "model":
        return frozenset((*model_languages(meta), UNDETERMINED))
    codes = frozenset(code.strip() for code in choice.split(",") if code.strip())
    if not codes or not all(code.isalpha() and 2 <= len(code) <= 3 for code in codes):
        raise ValueError(f"languages must be model, all, or codes such as en,und; not {choice!r}")
    return codes
