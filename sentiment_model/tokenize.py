"""A tokenizer for social and news text.

URLs and @mentions become placeholder tokens, #hashtags and emoticons are kept
whole, emoji and CJK characters are one token each, elongations are shortened
("soooo" -> "sooo"), HTML entities are decoded and "n't" is split off so that
negation is its own token.

What a token is lives in token_rules.py. `reference_prefix` runs its pattern through Python's `re`; `tokenize`
and `tokenize_prefix` take the PCRE2 path (tokenize_pcre.py: the same tokens, several times faster) when the
`pcre2` package imports, and the reference otherwise.
"""

from __future__ import annotations

import re

from sentiment_model.token_rules import (
    CJK,
    ELONGATED,
    NUMBER_TOKEN,
    RE_DIALECT,
    URL_TOKEN,
    USER_TOKEN,
    prepare,
    source,
    split_cjk,
)

try:
    from sentiment_model import tokenize_pcre
except ImportError:  # no pcre2 wheel for this platform: the reference, same tokens
    tokenize_pcre = None

VERSION = 3  # changes when the same text may give other tokens; caches of tokenized text are keyed by it
_PATTERN = re.compile(source(RE_DIALECT, lambda kind, alternative: f"(?P<{kind}>{alternative})"))


def tokenize(text: str, limit: int | None = None) -> list[str]:
    """Lower-cased tokens of `text`; the same text always gives the same tokens.

    With `limit`, scanning stops once more than `limit` tokens are found, so long
    texts cost no more than their kept prefix (the result then has limit + 1 tokens
    or more, which tells the caller the text was cut).
    """
    return tokenize_prefix(text, limit)[0]


def tokenize_prefix(text: str, limit: int | None = None) -> tuple[list[str], int]:
    """Tokens as in `tokenize`, and how many characters follow the last kept token when cut (else 0)."""
    text = prepare(text)
    found = tokenize_pcre.tokenize_prefix(text, limit) if tokenize_pcre is not None else None
    return found if found is not None else _reference(text, limit)


def reference_prefix(text: str, limit: int | None = None) -> tuple[list[str], int]:
    """`tokenize_prefix` through Python's `re`, one match at a time: what the fast path must give."""
    return _reference(prepare(text), limit)


def _reference(text: str, limit: int | None) -> tuple[list[str], int]:
    # Two checks on the whole text spare two regex calls per word in the texts (most) that have
    # no elongation and no CJK character anywhere; the tokens are the same either way.
    elongated = ELONGATED.search(text.lower()) is not None  # lower: "SoOOo" is elongated too
    cjk = CJK.search(text) is not None
    tokens: list[str] = []
    end = 0
    for match in _PATTERN.finditer(text):
        if limit is not None and len(tokens) >= limit:
            tokens.append(match.group())  # one token more: the text goes on past the limit
            return tokens, len(text) - end
        end = match.end()
        kind = match.lastgroup
        value = match.group()
        if kind == "url":
            tokens.append(URL_TOKEN)
        elif kind == "user":
            tokens.append(USER_TOKEN)
        elif kind == "number":
            tokens.append(NUMBER_TOKEN)
        elif kind == "emoticon":
            tokens.append(value)
        elif kind == "elision":  # French and Italian elided articles and pronouns: l'été -> l' été
            tokens.append(value.lower().replace("’", "'"))
        elif cjk and kind == "word" and CJK.search(value):
            tokens.extend(split_cjk(value.lower()))
        elif elongated and len(value) > 3:
            tokens.append(ELONGATED.sub(r"\1\1\1", value.lower()))
        else:
            tokens.append(value.lower())
    return tokens, 0
