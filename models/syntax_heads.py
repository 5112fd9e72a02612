"""Heads that track syntax: Clark et al. 2019's procedure ("What does BERT look at?", section 4.2)
on word-level attention, scored against gold dependency arcs.

Word-level attention: an encoder attends between word pieces; a word's attention *to* another
word is the sum over that word's pieces (attention is a distribution over keys, so the pieces'
shares add up), and *from* a word the mean over its pieces (each piece is a query with a
distribution of its own). [CLS] and [SEP] are left out (their rows and columns), and a word's
attention to itself is set to 0, so each head predicts another word.

A head predicts a word's syntactic head in two directions:
- dependent -> head: the word the dependent attends to most (argmax over its row);
- head -> dependent: the word that attends most to the dependent (argmax over its column).
For each relation (the UD relation before any ":" subtype) and head, the share of that
relation's dependents whose gold head is predicted; and the baseline of the best fixed offset
(the word k places away, k in -3 ... +2, k != 0), as Clark et al. report it.

Pure numpy; `word_attention` takes the encoder's piece-level attention (models.encoder).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

OFFSETS = (-3, -2, -1, 1, 2)


def word_attention(attentions: np.ndarray, word_ids: Sequence[int], words: int) -> np.ndarray:
    """Piece-level attention [..., T, T] -> word-level [..., words, words]: keys summed over a
    word's pieces, queries averaged; pieces of no word (word id -1: [CLS], [SEP]) left out;
    the diagonal (a word's attention to itself) set to 0."""
    ids = np.asarray(word_ids)
    member = np.zeros((words, len(ids)), dtype=np.float64)  # [W, T]: piece t belongs to word w
    for t, w in enumerate(ids):
        if w >= 0:
            member[w, t] = 1.0
    to_words = attentions @ member.T  # [..., T, W]: keys summed per word
    from_words = (member @ to_words) / member.sum(axis=1, keepdims=True).clip(min=1)  # [..., W, W]: queries averaged
    out = from_words.copy()
    idx = np.arange(words)
    out[..., idx, idx] = 0.0
    return out


@dataclass(frozen=True)
class Sentence:
    """One gold tree over words: heads[i] = the 0-based index of word i's head (-1: the root),
    relations[i] = its UD relation without the subtype."""

    heads: tuple[int, ...]
    relations: tuple[str, ...]


def base_relation(deprel: str) -> str:
    return deprel.split(":", 1)[0]


@dataclass
class Tally:
    """Right predictions per relation: dep_to_head and head_to_dep [layers, heads], and per offset."""

    count: int
    dep_to_head: np.ndarray
    head_to_dep: np.ndarray
    by_offset: dict[int, int]


def score(word_attentions: Iterable[np.ndarray], sentences: Iterable[Sentence]) -> dict[str, Tally]:
    """Tally every non-root dependent of every sentence, per relation. word_attentions: for each
    sentence, [layers, heads, W, W] from word_attention."""
    tallies: dict[str, Tally] = {}
    for attention, sentence in zip(word_attentions, sentences, strict=True):
        layers, heads, n, _ = attention.shape
        to_head = attention.argmax(axis=-1)  # [L, H, W]: whom each word attends to most
        from_head = attention.argmax(axis=-2)  # [L, H, W]: who attends most to each word
        for i, (gold, relation) in enumerate(zip(sentence.heads, sentence.relations, strict=True)):
            if gold < 0:
                continue
            t = tallies.get(relation)
            if t is None:
                t = tallies[relation] = Tally(
                    0, np.zeros((layers, heads)), np.zeros((layers, heads)), dict.fromkeys(OFFSETS, 0)
                )
            t.count += 1
            t.dep_to_head += to_head[:, :, i] == gold
            t.head_to_dep += from_head[:, :, i] == gold
            for k in OFFSETS:
                t.by_offset[k] += int(i + k == gold)
    return tallies


def summary(tallies: dict[str, Tally]) -> dict:
    """The asset's "relations": per relation its count, the two accuracy grids (0-1) and the best
    fixed-offset baseline; relations by count, most frequent first."""
    out = {}
    for relation, t in sorted(tallies.items(), key=lambda item: (-item[1].count, item[0])):
        best = max(OFFSETS, key=lambda k: (t.by_offset[k], -abs(k)))
        out[relation] = {
            "count": t.count,
            "dep_to_head": np.round(t.dep_to_head / t.count, 4).tolist(),
            "head_to_dep": np.round(t.head_to_dep / t.count, 4).tolist(),
            "baseline": {"offset": best, "accuracy": round(t.by_offset[best] / t.count, 4)},
        }
    return out
