import pytest

from sentiment_model.tokenize import NUMBER_TOKEN, URL_TOKEN, USER_TOKEN, tokenize
from sentiment_model.vocab import PAD_ID, UNK_ID, Vocab


def test_seed_sentence():
    assert tokenize("This movie is fantastic and I love it!") == [
        "this",
        "movie",
        "is",
        "fantastic",
        "and",
        "i",
        "love",
        "it",
        "!",
    ]


def test_social_text():
    tokens = tokenize("@united I can't believe it, soooo bad :( #fail http://t.co/x 3.5%")
    assert tokens == [
        USER_TOKEN,
        "i",
        "ca",
        "n't",
        "believe",
        "it",
        ",",
        "sooo",
        "bad",
        ":(",
        "#fail",
        URL_TOKEN,
        NUMBER_TOKEN,
    ]


def test_negation_emoji_cjk_entities():
    assert tokenize("don't") == ["do", "n't"]
    assert tokenize("I ❤️ it &amp; 😀😀") == ["i", "❤", "it", "&", "😀", "😀"]
    assert tokenize("日本語 ok") == ["日", "本", "語", "ok"]


def test_combining_marks_stay_in_their_word():
    # Devanagari vowel signs and viramas, Arabic harakat, decomposed accents are marks (Mn/Mc), not letters
    assert tokenize("मुझे यह फिल्म पसंद है #फिल्म") == ["मुझे", "यह", "फिल्म", "पसंद", "है", "#फिल्म"]
    assert tokenize("مَرْحَبًا بِكُمْ") == ["مَرْحَبًا", "بِكُمْ"]
    assert tokenize("cafe\u0301 ok") == ["cafe\u0301", "ok"]
    assert tokenize("isn't") == ["is", "n't"]


def test_scripts_and_languages_of_the_multilingual_model():
    assert tokenize("هذا الفيلم رائع جدا 😍") == ["هذا", "الفيلم", "رائع", "جدا", "😍"]  # Arabic script
    assert tokenize("yeh film bahut acchi hai yaar!!") == ["yeh", "film", "bahut", "acchi", "hai", "yaar", "!", "!"]
    assert tokenize("Qué maravilla, NÃO gostei, großartig") == [
        "qué",
        "maravilla",
        ",",
        "não",
        "gostei",
        ",",
        "großartig",
    ]
    # French and Italian elisions are split off before a vowel or h, so "amore" is one word everywhere
    assert tokenize("J'adore l'été, qu’il dell'Italia l'hôtel") == [
        "j'",
        "adore",
        "l'",
        "été",
        ",",
        "qu'",
        "il",
        "dell'",
        "italia",
        "l'",
        "hôtel",
    ]
    assert tokenize("c'mon it's o'clock, don't") == ["c'mon", "it's", "o'clock", ",", "do", "n't"]  # English kept


def test_elongation_and_cjk_anywhere_in_the_text():
    # whatever the case of the repeated letters, and wherever the CJK word stands
    assert tokenize("SoOOo GOOOOD, sooo") == ["sooo", "goood", ",", "sooo"]
    assert tokenize("ok then 東京タワー!") == ["ok", "then", "東", "京", "タ", "ワ", "ー", "!"]
    assert tokenize("aaaa!!!!") == ["aaa", "!", "!", "!", "!"]


def test_vocab_round_trip(tmp_path):
    docs = [tokenize("good good bad"), tokenize("good meh")]
    vocab = Vocab.build(docs, min_freq=1, max_size=10)
    assert vocab.itos[:3] == ["<pad>", "<unk>", "good"]  # most frequent first
    ids = vocab.encode(["good", "bad", "never-seen"])
    assert ids[-1] == UNK_ID and PAD_ID not in ids
    assert vocab.decode(ids[:2]) == ["good", "bad"]
    vocab.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json").itos == vocab.itos


def test_vocab_min_freq_and_max_size():
    docs = [["a", "a", "a", "b", "b", "c"]]
    assert Vocab.build(docs, min_freq=2).itos == ["<pad>", "<unk>", "a", "b"]
    assert Vocab.build(docs, min_freq=1, max_size=3).itos == ["<pad>", "<unk>", "a"]
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(docs, min_freq=0)


def test_limit_stops_the_scan_and_says_what_was_cut():
    from sentiment_model.tokenize import tokenize_prefix

    assert tokenize("one two three four five", limit=3) == ["one", "two", "three", "four"]
    assert tokenize_prefix("one two three four five", 3) == (["one", "two", "three", "four"], 10)
    assert tokenize_prefix("one two", 3) == (["one", "two"], 0)
    assert tokenize("one two three", limit=3) == tokenize("one two three")
