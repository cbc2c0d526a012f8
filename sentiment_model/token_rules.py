"""What a token is: the tokenizer's regular expression, written once over named character classes, and the
rules applied to what it matches (placeholders, elongation, CJK characters).

Two dialects render it: RE_DIALECT, the classes as Python's `re` writes them (\\w, \\d, \\s, \\b, (?i:...)),
which is the reference tokenizer; and `pcre_dialect()`, every class spelled out code point by code point, taken
from what Python's `re` itself matches (PCRE2's own \\w, \\d, \\s, \\b and case folding differ), and loops that
never step back (possessive: PCRE2's JIT keeps a stack frame per step it may step back to, and runs out on words
of ~1,400 characters), which match the same: each step of these loops has one way to go on.
"""

from __future__ import annotations

import array
import html
import re
import unicodedata
from collections.abc import Callable
from functools import cache

URL_TOKEN = "<url>"
USER_TOKEN = "<user>"
NUMBER_TOKEN = "<num>"
ELONGATED = re.compile(r"(.)\1{3,}")
CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")

# French and Italian elided articles and pronouns (l', d', qu', dell', un'), at a word's start, before a vowel or h
_ELIDED = ("qu", "dell", "dall", "nell", "sull", "all", "coll", "quell", "quest", "tutt", "un")
_ELIDED_LETTERS = "cdjlmnst"
_VOWELS = "aeiouhyàâäéèêëîïôöùûüœæáíóúìò"
_EMOTICON = (
    r"(?:[<>]?[:;=8xX][\-o\*']?[\)\]\(\[dDpP/\\|@3}{]+"  # :-) ;P :D
    r"|[\)\]\(\[dDpP/\\|@}{]+[\-o\*']?[:;=8]"  # (-:
    r"|<3+|\^_*\^|-_+-|o_O|O_o)"  # <3 ^_^ -_- o_O
)


def source(c: dict[str, str], group: Callable[[str, str], str]) -> str:
    """The pattern: one alternative per kind of token, tried in this order at each position; `c` is a dialect
    (RE_DIALECT or pcre_dialect()), `group(kind, body)` wraps an alternative.
    Every character that is not whitespace or "_" starts a match."""
    end, letter, letter_or_mark, digit = c["end_of_word"], c["letter"], c["letter_or_mark"], c["digit"]
    unless_negation = c["unless_negation"]
    return "|".join(
        [
            group("url", rf"https?://{c['nonspace']}+|www\.{c['nonspace']}+"),
            group("user", rf"@{c['name']}+"),
            group("hashtag", rf"\#{c['name']}+"),
            group("emoticon", rf"{_EMOTICON}(?={c['space']}|$|[.,!?])"),
            group("number", rf"{digit}{c['some']}(?:[.,:]{digit}{c['some']}){c['all']}%?"),
            group("negation", rf"n't{end}"),
            group("elision", rf"(?<!{letter}){c['elided']}['’](?={c['vowel']})"),
            group(
                "word",  # up to "n't" if the word has one (can't -> ca n't), else all of it
                rf"{letter}(?:{unless_negation}{letter_or_mark}|{unless_negation}['’]{letter}){c['up_to']}(?=n't{end})"
                rf"|{letter}(?:{letter_or_mark}|['’](?!t{end}){letter}){c['all']}",
            ),
            group("other", c["other"]),
        ]
    )


def mark_ranges() -> list[tuple[int, int]]:
    """The combining marks (Mn, Mc, Me): vowel signs and viramas (Devanagari), harakat (Arabic), combining
    accents. `[^\\W\\d_]` excludes them, which would split such words into characters."""
    ranges: list[list[int]] = []
    for code in (*range(0x300, 0x1F000), *range(0xE0100, 0xE01F0)):  # where marks are (a full scan: 7x slower)
        if unicodedata.category(chr(code)) in ("Mn", "Mc", "Me"):
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return [(a, b) for a, b in ranges]


_MARK = "[" + "".join(f"\\U{a:08x}" + (f"-\\U{b:08x}" if b > a else "") for a, b in mark_ranges()) + "]"
RE_DIALECT = {
    "some": "+",
    "all": "*",
    "up_to": "*?",  # as few as the lookahead after it allows
    "unless_negation": "",
    "nonspace": r"\S",
    "space": r"\s",
    "name": rf"(?:\w|{_MARK})",  # of a @user or #hashtag
    "digit": r"\d",
    "letter": r"[^\W\d_]",
    "letter_or_mark": rf"(?:[^\W\d_]|{_MARK})",  # a letter, or a mark that belongs to the letter before it
    "end_of_word": r"\b",  # only ever after a word character
    "other": r"[^\w\s]",
    "elided": "(?i:" + "|".join(_ELIDED) + f"|[{_ELIDED_LETTERS}])",
    "vowel": f"(?i:[{_VOWELS}])",
}


@cache
def pcre_dialect() -> dict[str, str]:
    """RE_DIALECT with every class a list of code points, the ones Python's `re` matches (0.2 s, once), and
    possessive loops."""
    every = array.array("I", range(0x110000)).tobytes().decode("utf-32-le", "surrogatepass")
    word, space, digit = (_runs(re.finditer(rf"{cls}+", every)) for cls in (r"\w", r"\s", r"\d"))
    letter = _minus(_minus(word, digit), [(ord("_"), ord("_"))])
    marks = mark_ranges()
    folded = "".join(sorted(set("".join(_ELIDED) + _ELIDED_LETTERS + _VOWELS)))
    cased = re.findall(f"(?i:[{folded}])", every)  # every character one of those letters matches, any case

    def same_letters(letters: str) -> str:  # what (?i:[letters]) matches, spelled out
        return _class(_union([(ord(ch), ord(ch)) for ch in cased if re.match(f"(?i:[{letters}])", ch)], []))

    elided = "|".join("".join(same_letters(ch) for ch in w) for w in _ELIDED)
    return {
        "some": "++",
        "all": "*+",
        "up_to": "*+",  # stops where "n't" follows (the steps check), as the lazy loop does
        "unless_negation": f"(?!n't(?!{_class(word)}))",
        "nonspace": _class(space, negate=True),
        "space": _class(space),
        "name": _class(_union(word, marks)),
        "digit": _class(digit),
        "letter": _class(letter),
        "letter_or_mark": _class(_union(letter, marks)),
        "end_of_word": f"(?!{_class(word)})",  # \b after a word character: no word character follows
        "other": _class(_union(word, space), negate=True),
        "elided": f"(?:{elided}|{same_letters(_ELIDED_LETTERS)})",
        "vowel": same_letters(_VOWELS),
    }


def split_cjk(word: str) -> list[str]:
    """Each CJK character is a token; runs of other letters stay together."""
    out: list[str] = []
    run = ""
    for char in word:
        if CJK.match(char):
            if run:
                out.append(run)
                run = ""
            out.append(char)
        else:
            run += char
    if run:
        out.append(run)
    return out


def prepare(text: str) -> str:
    """HTML entities decoded, emoji variation selectors dropped: what the pattern runs over."""
    return html.unescape(text).replace("\ufe0f", "")


def _runs(matches) -> list[tuple[int, int]]:
    return [(m.start(), m.end() - 1) for m in matches]


def _union(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(a + b):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _minus(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in a:
        for cut_lo, cut_hi in b:
            if cut_hi < lo or cut_lo > hi:
                continue
            if cut_lo > lo:
                out.append((lo, cut_lo - 1))
            lo = cut_hi + 1
        if lo <= hi:
            out.append((lo, hi))
    return out


def _class(ranges: list[tuple[int, int]], negate: bool = False) -> str:
    """A bracket expression of code point ranges: ASCII as \\xhh, the rest as the characters themselves
    (no syntax is special among them, and no escape for them reads the same in every engine)."""

    def char(code: int) -> str:
        return f"\\x{code:02x}" if code < 0x80 else chr(code)

    body = "".join(char(lo) if lo == hi else f"{char(lo)}-{char(hi)}" for lo, hi in ranges)
    return f"[{'^' if negate else ''}{body}]"
