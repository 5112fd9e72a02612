"""Tokenization and vocabularies shared by the models."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# Imported with the model that needs it (under the model runtime's load lock), never lazily
# inside a request: two requests importing nltk at once raised ImportError under load.
from nltk.tokenize import NLTKWordTokenizer

PAD, UNK = "<pad>", "<unk>"


@lru_cache(maxsize=1)
def _treebank():
    """NLTK's improved Penn Treebank tokenizer: it splits clitics and punctuation the way UD
    English EWT does ("don't" -> "do" "n't", "cats'" -> "cats" "'") and needs no downloaded
    model data, so it runs offline."""
    return NLTKWordTokenizer()


def treebank_tokenize(text: str) -> list[str]:
    """Raw text -> Penn Treebank tokens (the convention of UD English EWT)."""
    tokens = _treebank().tokenize(text)
    # The Treebank convention turns double quotes into `` and ''; EWT keeps the
    # characters that were typed, so map them back.
    return ['"' if t in ("``", "''") else t for t in tokens]


class Vocab:
    """A bidirectional map token <-> id with <pad> = 0 and <unk> = 1."""

    def __init__(self, tokens: Iterable[str]):
        self.itos: list[str] = [PAD, UNK]
        for tok in tokens:
            if tok not in (PAD, UNK):
                self.itos.append(tok)
        self.stoi = {tok: i for i, tok in enumerate(self.itos)}

    @classmethod
    def build(cls, sequences: Iterable[Iterable[str]], min_freq: int = 1) -> Vocab:
        counts = Counter(tok for seq in sequences for tok in seq)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        return cls(kept)

    @property
    def pad_id(self) -> int:
        return 0

    @property
    def unk_id(self) -> int:
        return 1

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def encode(self, tokens: Iterable[str]) -> list[int]:
        return [self.stoi.get(t, self.unk_id) for t in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.itos[i] for i in ids]

    def to_json(self) -> list[str]:
        return list(self.itos)

    @classmethod
    def from_json(cls, itos: list[str]) -> Vocab:
        if itos[:2] != [PAD, UNK]:
            raise ValueError(f"A vocabulary must start with {PAD!r}, {UNK!r}; got {itos[:2]!r}.")
        return cls(itos[2:])


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(obj, path: Path, indent: int | None = 1) -> None:
    """obj as UTF-8 JSON; indent=None writes it compact (large numeric assets)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=indent, separators=None if indent else (",", ":"))
        f.write("\n")
