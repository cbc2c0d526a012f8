"""The vocabulary: token <-> id, with padding and unknown ids fixed at 0 and 1.

A vocabulary may also hold *pieces* of words (a word's start, "▁gra", or a part after the
start, "##cias"), learnt from the words that are too rare to be in it. A token outside the
vocabulary is then read as its pieces, longest first from the left (WordPiece's rule), so a
word never seen in training ("increíblemente", an Arabic word with a new prefix) still reaches
the model through the parts it shares with words that were seen; without pieces it is <unk>.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1
PIECE_START = "▁"  # marks a piece that begins a word; the tokenizer never emits it inside a token
PIECE_MORE = "##"  # marks a piece after a word's start; no token the tokenizer emits begins with it
MAX_PIECE = 6  # characters in the longest piece
_CACHE = 100_000  # most out-of-vocabulary tokens whose pieces are remembered


@dataclass
class Vocab:
    itos: list[str]
    stoi: dict[str, int] = field(init=False, repr=False)
    has_pieces: bool = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.itos[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}; got {self.itos[:2]}")
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("vocabulary tokens must be unique")
        self.has_pieces = any(t.startswith(PIECE_START) and len(t) > 1 for t in self.itos)
        self._split: dict[str, list[str]] = {}

    @classmethod
    def build(cls, documents: Iterable[list[str]], min_freq: int = 2, max_size: int = 30000, pieces: int = 0) -> Vocab:
        """The `max_size` most frequent tokens seen at least `min_freq` times (ties by token), then up to
        `pieces` word pieces learnt from the tokens left out (see `learn_pieces`)."""
        if min_freq < 1 or max_size < 3 or pieces < 0:
            raise ValueError("min_freq must be >= 1, max_size >= 3 and pieces >= 0")
        counts = Counter(token for tokens in documents for token in tokens)
        ranked = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        words = ranked[: max_size - 2]
        if not pieces:
            return cls([PAD, UNK, *words])
        kept = set(words)
        return cls([PAD, UNK, *words, *learn_pieces({t: c for t, c in counts.items() if t not in kept}, pieces)])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Iterable[str]) -> list[int]:
        stoi = self.stoi
        if not self.has_pieces:
            return [stoi.get(token, UNK_ID) for token in tokens]
        return [stoi.get(piece, UNK_ID) for piece in self.pieces(tokens)]

    def pieces(self, tokens: Iterable[str]) -> list[str]:
        """The tokens as the model reads them: each one in the vocabulary, else its pieces (one <unk> for
        a character no piece covers); without pieces, the tokens themselves."""
        if not self.has_pieces:
            return list(tokens)
        out: list[str] = []
        for token in tokens:
            if token in self.stoi:
                out.append(token)
                continue
            split = self._split.get(token)
            if split is None:
                if len(self._split) >= _CACHE:
                    self._split.clear()
                split = self._split[token] = self._segment(token)
            out.extend(split)
        return out

    def _segment(self, token: str) -> list[str]:
        """Longest piece first, from the left: "▁" + the longest known start, then "##" + the longest known
        part of the rest, and so on."""
        out: list[str] = []
        start, mark = 0, PIECE_START
        while start < len(token):
            for end in range(min(len(token), start + MAX_PIECE), start, -1):
                piece = mark + token[start:end]
                if piece in self.stoi:
                    out.append(piece)
                    start = end
                    break
            else:
                out.append(UNK)
                start += 1
            mark = PIECE_MORE
        return out

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[i] for i in ids]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"itos": self.itos}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> Vocab:
        return cls(json.loads(path.read_text())["itos"])


def learn_pieces(rare: dict[str, int], size: int) -> list[str]:
    """Up to `size` pieces of the `rare` tokens (token -> count): every start ("▁" + the first 1-6
    characters) and later part ("##" + 1-6 characters) ranked by how often it occurs in them, with
    each single character first so that any word made of seen characters can be read."""
    counts: Counter[str] = Counter()
    for token, n in rare.items():
        for i in range(len(token)):
            mark = PIECE_START if i == 0 else PIECE_MORE
            for j in range(i + 1, min(len(token), i + MAX_PIECE) + 1):
                counts[mark + token[i:j]] += n
    single = [p for p in counts if len(p.removeprefix(PIECE_START).removeprefix(PIECE_MORE)) == 1]
    chars = sorted(single, key=lambda p: (-counts[p], p))[:size]
    chosen = set(chars)
    rest = sorted((p for p in counts if p not in chosen and counts[p] >= 2), key=lambda p: (-counts[p], p))
    return [*chars, *rest[: size - len(chars)]]
