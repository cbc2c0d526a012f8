"""The tokenizer through PCRE2 (JIT-compiled): the same tokens as the reference in tokenize.py, several times
faster (bench/tokens.py checks both on every text of the datasets).

One `pcre2` substitution per text writes each match as SEP + a marker for the kinds that are not simply
lower-cased (url, user and number: REPLACE; EMOTICON; ELISION) + the match, and leaves the whitespace between
matches as it is. Lower-casing that whole string, then splitting it at whitespace, gives the tokens of most texts
without a Python step per match: SEP, the markers and whitespace are neither cased nor case-ignorable, so each
match lower-cases as it would alone. Texts with CJK characters or a run of "_" outside a @user or #hashtag (which
the pattern matches here, as a match to drop) go through `_walk`, the reference's loop over the same string.
"""

from __future__ import annotations

import re
from functools import cache

import pcre2

from sentiment_model.token_rules import (
    CJK,
    ELONGATED,
    NUMBER_TOKEN,
    URL_TOKEN,
    USER_TOKEN,
    pcre_dialect,
    source,
    split_cjk,
)

SEP, REPLACE, EMOTICON, ELISION = "\x1e", "\x01", "\x02", "\x03"  # a text holding one goes to the reference
_MARKERS = REPLACE + EMOTICON + ELISION
# In a branch-reset group every alternative numbers its groups from 1: the marker is the group that is set.
_MARKED = {"url": "()", "user": "()", "number": "()", "emoticon": "(){0}()", "elision": "(){0}(){0}()"}
_TEMPLATE = SEP + "${1:+\x01:}${2:+\x02:}${3:+\x03:}$0"
_PLACEHOLDERS = re.compile(REPLACE + r"(\S)\S*")  # tokens are whitespace-free (\S as the pattern's classes)
_EMOTICONS = re.compile(EMOTICON + r"(\S+)")
_ELISIONS = re.compile(ELISION + r"(\S+)")
_SPACE = re.compile(r"\s")  # whitespace as the pattern's classes have it (Python's re)
_CHARS_PER_TOKEN = 8  # with a limit, a long text is first tokenized this many characters per token in


@cache
def _compiled() -> tuple[pcre2.Pattern, pcre2.Pattern]:
    """The pattern (with its markers, and "_" runs matched) and the elongation check, on first use."""
    body = source(pcre_dialect(), lambda kind, alternative: f"(?:{alternative}){_MARKED.get(kind, '')}")
    return pcre2.compile(f"(?|{body}|_+)"), pcre2.compile(r"([^\n])\1\1\1")  # ELONGATED's check


def tokenize_prefix(text: str, limit: int | None) -> tuple[list[str], int] | None:
    """As tokenize.tokenize_prefix for a prepared text, or None for a text this path does not take (one holding
    SEP or a marker, a lone surrogate, or one that meets a limit of PCRE2's)."""
    if SEP in text or REPLACE in text or EMOTICON in text or ELISION in text:
        return None
    pattern = _compiled()[0]
    cjk = not text.isascii() and CJK.search(text) is not None
    try:
        if limit is not None and len(text) > _CHARS_PER_TOKEN * (limit + 2):
            # No match holds whitespace, and no lookaround reads past a whitespace character other than as it
            # reads the text's end: the matches before one are the whole text's; a cut among them is its cut.
            space = _SPACE.search(text, _CHARS_PER_TOKEN * (limit + 2))
            if space is not None:
                prefix = text[: space.start()]
                tokens, chars_cut = _tokens(pattern.sub(_TEMPLATE, prefix), text, len(prefix), limit, cjk)
                if chars_cut:
                    return tokens, chars_cut + len(text) - len(prefix)
        return _tokens(pattern.sub(_TEMPLATE, text), text, len(text), limit, cjk)
    except (UnicodeEncodeError, pcre2.LibraryError):  # a lone surrogate; a PCRE2 limit (none met on the datasets)
        return None


def _tokens(out: str, text: str, length: int, limit: int | None, cjk: bool) -> tuple[list[str], int]:
    """The tokens from `out`, the substitution of `text` or of its first `length` characters."""
    low = out.lower()
    elongated = _elongated(low, text)
    if cjk or SEP + "_" in out:
        return _walk(out, low, length, limit, cjk, elongated)
    if REPLACE in out:
        low = _PLACEHOLDERS.sub(_placeholder, low)
    if elongated:  # a run cannot cross SEP; runs in gaps and in marked matches come to nothing
        low = ELONGATED.sub(r"\1\1\1", low)
    if EMOTICON in out:  # as they stand: the same ones, in the same order, in `out`
        emoticons = iter(_EMOTICONS.findall(out))
        low = _EMOTICONS.sub(lambda _: next(emoticons), low)
    if ELISION in out:
        low = _ELISIONS.sub(lambda m: m[1].replace("’", "'"), low)  # l'été -> l' été
    tokens = low.split()
    if limit is None or len(tokens) <= limit:
        return tokens, 0
    rest = out.split(SEP, limit + 1)[-1]  # from match limit + 1 on
    head = out[: len(out) - len(rest) - 1]
    kept = len(head.rstrip()) - head.count(SEP) - sum(head.count(m) for m in _MARKERS)  # to the last kept match
    return [*tokens[:limit], rest.split(None, 1)[0].lstrip(_MARKERS)], length - kept


def _elongated(low: str, text: str) -> bool:
    """The reference's check, over the whole text; asked only when a match (or a gap) of `low` has a run."""
    check = _compiled()[1]
    return check.search(low) is not None and check.search(text.lower()) is not None


def _placeholder(match: re.Match) -> str:
    """A url, user or number (REPLACE): the three kinds tell apart by their first character."""
    return URL_TOKEN if match[1] in "hw" else USER_TOKEN if match[1] == "@" else NUMBER_TOKEN


def _walk(out: str, low: str, length: int, limit: int | None, cjk: bool, elongated: bool) -> tuple[list[str], int]:
    """The reference's loop (tokenize._reference), one match at a time, read from `out` and its lower case."""
    tokens: list[str] = []
    raw_parts, low_parts = out.split(SEP), low.split(SEP)
    position, end = len(raw_parts[0]), 0
    for raw, low_part in zip(raw_parts[1:], low_parts[1:], strict=True):
        value = raw.rstrip()  # the match, then the whitespace up to the next one
        gap = len(raw) - len(value)
        marker = value[0] if value[0] in _MARKERS else ""
        value, lowered = value[len(marker) :], low_part.rstrip()[len(marker) :]
        if value[0] == "_":  # a run of "_": no match of the reference's pattern
            position += len(value) + gap
            continue
        if limit is not None and len(tokens) >= limit:
            tokens.append(value)
            return tokens, length - end
        end = position + len(value)
        position = end + gap
        if marker == REPLACE:
            tokens.append(URL_TOKEN if value[0] in "hw" else USER_TOKEN if value[0] == "@" else NUMBER_TOKEN)
        elif marker == EMOTICON:
            tokens.append(value)
        elif marker == ELISION:
            tokens.append(lowered.replace("’", "'"))
        elif cjk and value[0] != "#" and CJK.search(value):  # a word (a one-character "other" splits to itself)
            tokens.extend(split_cjk(lowered))
        elif elongated and len(value) > 3:
            tokens.append(ELONGATED.sub(r"\1\1\1", lowered))
        else:
            tokens.append(lowered)
    return tokens, 0
