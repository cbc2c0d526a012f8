"""The PCRE2 path of the tokenizer gives the reference's tokens and chars cut, text for text."""

import random
import re

import pytest

from sentiment_model import tokenize

pcre2 = pytest.importorskip("pcre2")
from sentiment_model import token_rules, tokenize_pcre  # noqa: E402

LIMITS = [None, 0, 1, 2, 3, 8, 64, 128, 400]
TRICKY = [
    "@united I can't believe it, soooo bad :( #fail http://t.co/x 3.5% www.x.com/a?b=1",
    "HTTPS://X.COM http:// www. @ # #_ @_x @a_b #x_y_ __init__ a_b _ ___ soooo____",
    "8) 83 8D XD xD :D :-P :'( (-: ^_^ ^^ -_- -__- o_O O_o <333 :)))))!! :)x :),",
    "don't isn't won't! n't can't's ain’t isn'tcha DON'T wouldn'T it's o'clock rock'n'roll",
    "J'adore l'été, qu’il dell'Italia l'hôtel DELL'ARTE un'amica s'il L’HOMME ſ'été c'mon l'2",
    "1,000,000.50 12:30 3.5% ٣٤٥ x² ² ½ Ⅻ 10x 0.5.6 1,2,",
    "SoOOo GOOOOD!!!! aaaa!!!! ....   ---- ΣΣΣΣ ςςςΣ·a ΟΔΟΣ ΑΣ·Β İSTANBUL İİİİ",
    "日本語 ok 東京タワーーーー soooo 日本soooo #日本 @日本 ゠ 한국어 ｶﾀｶﾅ",
    "मुझे यह फिल्म पसंद है #फिल्म مَرْحَبًا بِكُمْ cafe\u0301 \u0301abc ा",
    "I ❤️ it &amp; 😀😀 👨\u200d👩\u200d👧 &lt;3 &#x1F600; &quot;quoted&quot; \ufe0f",
    "tabs\tand\nnew\r\nlines\x0bvertical\x0cfeed\x1cfile\x1dgroup\x1funit\u3000wide\u2028line\x85next\u00a0nbsp",
    ":)\n",
    "nul\x00 \x00\x04 日本\x00 a_\x00",
    "",
    "   ",
    "word",
    "x" * 500 + " " + "y " * 300,
    "http://" + "a" * 3000 + " ok",
    ("one two three, four! " * 200) + "日本 end",
    ("l'été d'un " * 300) + "____ soooo",
]
PIECES = [
    *"aAnNtTxXdDpPoO8_ \n\x00\x1c\u3000éÉİΣς日ーाِ\u0301023٣²@#:;)(<3^-.,!?%/’'",
    "http://",
    "www.",
    "n't",
    "l'",
    "qu’",
    "dell'",
    "soooo",
    "😀",
    "\ufe0f",
    "&amp;",
    "&lt;",
    ":-)",
    "can",
    "日本",
]


def test_every_class_matches_what_python_re_matches():
    every = "".join(map(chr, [*range(0xD800), *range(0xE000, 0x110000)]))  # no surrogates: PCRE2 reads UTF-8
    ours, theirs = token_rules.pcre_dialect(), token_rules.RE_DIALECT
    for name in ("nonspace", "space", "name", "digit", "letter", "letter_or_mark", "other", "vowel"):
        assert pcre2.compile(ours[name]).sub("", every) == re.sub(theirs[name], "", every), name
    after_t = "t".join(every)  # \b after a word character, before each character
    assert pcre2.compile(f"t{ours['end_of_word']}").sub("", after_t) == re.sub(r"t\b", "", after_t)
    cased = re.findall(f"(?i:[{''.join(token_rules._ELIDED)}{token_rules._ELIDED_LETTERS}])", every)
    elided_ours, elided_theirs = pcre2.compile(ours["elided"]), re.compile(theirs["elided"])
    for word in (*token_rules._ELIDED, *token_rules._ELIDED_LETTERS):
        for i in range(len(word)):
            for char in cased:
                text = word[:i] + char + word[i + 1 :]
                assert (elided_ours.fullmatch(text) is None) == (elided_theirs.fullmatch(text) is None), text


def _same(text: str, limit: int | None) -> None:
    fast = tokenize_pcre.tokenize_prefix(tokenize.prepare(text), limit)
    assert fast is not None, "the fast path refused the text"
    assert fast == tokenize.reference_prefix(text, limit), (text, limit)


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_texts(text):
    for limit in LIMITS:
        _same(text, limit)


def test_made_up_texts():
    rng = random.Random(3)
    for _ in range(2000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 60)))
        for limit in (None, 0, 1, 5, 17):
            _same(text, limit)


@pytest.mark.parametrize(
    "text", ["a" * 5000, "a'b" * 2000, "1." * 3000, "a" + "\u0301" * 5000, "日" * 5000, "a" * 5000 + "n't", ")" * 5000]
)
def test_long_words_stay_on_the_fast_path(text):
    # non-possessive loops ran out of PCRE2's JIT stack at ~1,400 characters
    for limit in (None, 1):
        _same(text, limit)


def test_limits_cut_at_the_same_place():
    text = "a 日本語 b c"  # CJK characters count one each, the cut comes after the whole word
    assert tokenize.tokenize_prefix(text, 3) == (["a", "日", "本", "語", "b"], 4)
    assert tokenize.tokenize_prefix("a 日本語", 3) == (["a", "日", "本", "語"], 0)
    long = "@user " + "good " * 1000 + "end"  # the fast path reads a prefix first
    tokens, cut = tokenize.tokenize_prefix(long, 64)
    assert tokens == ["<user>", *["good"] * 63, "good"] and cut == len(long) - len("@user " + "good " * 63) + 1
    assert (tokens, cut) == tokenize.reference_prefix(long, 64)


def test_texts_the_fast_path_leaves_to_the_reference():
    for text in ("a\x1eb c", "x\x01y", "\x02:)", "l\x03'été", "a \x1e\t", "lone \ud800 surrogate"):
        assert tokenize_pcre.tokenize_prefix(tokenize.prepare(text), None) is None
        assert tokenize.tokenize_prefix(text) == tokenize.reference_prefix(text)
        assert tokenize.tokenize_prefix(text, 1) == tokenize.reference_prefix(text, 1)


def test_without_pcre2_the_reference_runs(monkeypatch):
    monkeypatch.setattr(tokenize, "tokenize_pcre", None)
    assert tokenize.tokenize("@united can't :D") == ["<user>", "ca", "n't", ":D"]
