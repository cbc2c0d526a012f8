"""A tokenizer for social and news text.

URLs and @mentions become placeholder tokens, #hashtags and emoticons are kept
whole, emoji and CJK characters are one token each, elongations are shortened
("soooo" -> "sooo"), HTML entities are decoded and "n't" is split off so that
negation is its own token.
"""

from __future__ import annotations

import html
import re
import unicodedata

URL_TOKEN = "<url>"
USER_TOKEN = "<user>"
NUMBER_TOKEN = "<num>"
VERSION = 3  # changes when the same text may give other tokens; caches of tokenized text are keyed by it


def _marks() -> str:
    """A character class of the combining marks (Mn, Mc, Me): vowel signs and viramas (Devanagari), harakat
    (Arabic), combining accents. `[^\\W\\d_]` excludes them, which would split such words into characters."""
    ranges: list[list[int]] = []
    for code in (*range(0x300, 0x1F000), *range(0xE0100, 0xE01F0)):  # where marks are (a full scan: 7x slower)
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return "[" + "".join(f"\\U{a:08x}" + (f"-\\U{b:08x}" if b > a else "") for a, b in ranges) + "]"


_MARK = _marks()
_LETTER = rf"(?:[^\W\d_]|{_MARK})"  # a letter, or a mark that belongs to the letter before it
# French and Italian elided articles and pronouns (l', d', qu', dell', un'), at a word's start, before a vowel or h
_ELISION = (
    r"(?<![^\W\d_])(?i:qu|dell|dall|nell|sull|all|coll|quell|quest|tutt|un|[cdjlmnst])['’]"
    r"(?=(?i:[aeiouhyàâäéèêëîïôöùûüœæáíóúìò]))"
)
_EMOTICON = (
    r"(?:[<>]?[:;=8xX][\-o\*']?[\)\]\(\[dDpP/\\|@3}{]+"  # :-) ;P :D
    r"|[\)\]\(\[dDpP/\\|@}{]+[\-o\*']?[:;=8]"  # (-:
    r"|<3+|\^_*\^|-_+-|o_O|O_o)"  # <3 ^_^ -_- o_O
)
_PATTERN = re.compile(
    rf"""
    (?P<url>https?://\S+|www\.\S+)
  | (?P<user>@(?:\w|{_MARK})+)
  | (?P<hashtag>\#(?:\w|{_MARK})+)
  | (?P<emoticon>{_EMOTICON})(?=\s|$|[.,!?])
  | (?P<number>\d+(?:[.,:]\d+)*%?)
  | (?P<negation>n't\b)
  | (?P<elision>{_ELISION})
  | (?P<word>[^\W\d_](?:{_LETTER}|['’][^\W\d_])*?(?=n't\b)|[^\W\d_](?:{_LETTER}|['’](?!t\b)[^\W\d_])*)
  | (?P<other>[^\w\s])
    """,
    re.VERBOSE,
)
_ELONGATED = re.compile(r"(.)\1{3,}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def tokenize(text: str, limit: int | None = None) -> list[str]:
    """Lower-cased tokens of `text`; the same text always gives the same tokens.

    With `limit`, scanning stops once more than `limit` tokens are found, so long
    texts cost no more than their kept prefix (the result then has limit + 1 tokens
    or more, which tells the caller the text was cut).
    """
    return tokenize_prefix(text, limit)[0]


def tokenize_prefix(text: str, limit: int | None = None) -> tuple[list[str], int]:
    """Tokens as in `tokenize`, and how many characters follow the last kept token when cut (else 0)."""
    text = html.unescape(text).replace("\ufe0f", "")
    # Two checks on the whole text spare two regex calls per word in the texts (most) that have
    # no elongation and no CJK character anywhere; the tokens are the same either way.
    elongated = _ELONGATED.search(text.lower()) is not None  # lower: "SoOOo" is elongated too
    cjk = _CJK.search(text) is not None
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
        elif cjk and kind == "word" and _CJK.search(value):
            tokens.extend(_split_cjk(value.lower()))
        elif elongated and len(value) > 3:
            tokens.append(_ELONGATED.sub(r"\1\1\1", value.lower()))
        else:
            tokens.append(value.lower())
    return tokens, 0


def _split_cjk(word: str) -> list[str]:
    """Each CJK character is a token; runs of other letters stay together."""
    out: list[str] = []
    run = ""
    for char in word:
        if _CJK.match(char):
            if run:
                out.append(run)
                run = ""
            out.append(char)
        else:
            run += char
    if run:
        out.append(run)
    return out
