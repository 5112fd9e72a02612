"""One word in many contexts: how contextual each layer of an encoder is (Ethayarajh 2019).

    c = enc.word_in_contexts("bank", ["I sat on the bank of the river.", "The bank raised its rates."])
    c.vectors          # [layers + 1, sentences, hidden]: the word's vector per layer (0 = embeddings)
    c.self_similarity  # [layers + 1]: mean pairwise cosine of those vectors

A static embedding gives a word the same vector in every sentence (self-similarity 1). A
contextual encoder gives it a vector per sentence; Ethayarajh ("How contextual are contextualized
word representations?", EMNLP 2019) measured that a word's self-similarity falls with depth in
ELMo, BERT and GPT-2. Part of that fall is anisotropy: in upper layers any two words' vectors
have a high cosine, so `anisotropy` gives the baseline (random words of random sentences, per
layer) that a self-similarity is read against.

A word's vector is the mean of its word pieces' hidden states (the convention the tagger's MiniLM
features use too). Its first whole-word, case-insensitive occurrence in each sentence is taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class WordInContexts:
    """word, sentences: as asked; spans: (start, end) of the word's characters in each sentence
    vectors: float32[layers + 1, sentences, hidden]; self_similarity: float32[layers + 1]
    (NaN with one sentence: a similarity needs two)"""

    word: str
    sentences: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    vectors: np.ndarray
    self_similarity: np.ndarray


def find_word(word: str, sentence: str) -> tuple[int, int]:
    """(start, end) of the first whole-word, case-insensitive occurrence of `word`, or ValueError."""
    found = re.search(r"(?<!\w)" + re.escape(word) + r"(?!\w)", sentence, flags=re.IGNORECASE)
    if found is None:
        raise ValueError(f"{word!r} is not a word of the sentence {sentence[:80]!r}.")
    return found.span()


def mean_pairwise_cosine(vectors: np.ndarray) -> np.ndarray:
    """[..., n, d] -> [...]: the mean cosine over the n (n - 1) / 2 pairs (NaN when n < 2)."""
    n = vectors.shape[-2]
    if n < 2:
        return np.full(vectors.shape[:-2], np.nan, dtype=np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True).clip(min=1e-12)
    cosines = unit @ np.swapaxes(unit, -1, -2)  # [..., n, n]
    upper = np.triu_indices(n, k=1)
    return cosines[..., upper[0], upper[1]].mean(axis=-1).astype(np.float32)


@torch.inference_mode()
def hidden_states(encoder, sentences: list[str], max_tokens: int | None = None):
    """The tokenizer's padded batch of `sentences` and every layer's states [layers + 1, B, T, hidden]."""
    enc = encoder.tokenizer(sentences, return_offsets_mapping=True, return_tensors="pt", padding=True)
    limit = min(max_tokens or encoder.max_tokens, encoder.max_tokens)
    lengths = enc["attention_mask"].sum(dim=1)
    if int(lengths.max()) > limit:
        b = int(lengths.argmax())
        raise ValueError(f"Sentence {b + 1} has {int(lengths[b])} word pieces; the limit is {limit}. Shorten it.")
    inputs = {k: v.to(encoder.device) for k, v in enc.items() if k != "offset_mapping"}
    out = encoder.model(**inputs, output_hidden_states=True)
    return enc, torch.stack(out.hidden_states).float().cpu()  # [L + 1, B, T, H]


def word_in_contexts(encoder, word: str, sentences: list[str], max_tokens: int | None = None) -> WordInContexts:
    """The vectors of `word` in each sentence at every layer, and their self-similarity."""
    word = word.strip()
    if not word or len(word.split()) != 1:
        raise ValueError(f"Give one word, got {word[:40]!r}.")
    if not sentences:
        raise ValueError("Give at least one sentence that contains the word.")
    spans = [find_word(word, s) for s in sentences]
    enc, states = hidden_states(encoder, list(sentences), max_tokens)
    vectors = []
    for b, (start, end) in enumerate(spans):
        offsets = enc["offset_mapping"][b].tolist()
        # The word's pieces: real (non-empty) spans inside the word's characters.
        pieces = [i for i, (s, e) in enumerate(offsets) if e > s and s >= start and e <= end]
        vectors.append(states[:, b, pieces].mean(dim=1))  # [L + 1, H]
    stacked = torch.stack(vectors, dim=1).numpy()  # [L + 1, B, H]
    return WordInContexts(word, tuple(sentences), tuple(spans), stacked, mean_pairwise_cosine(stacked))


def anisotropy(encoder, sentences: list[str], pairs: int = 500, seed: int = 0) -> np.ndarray:
    """[layers + 1]: the mean cosine of `pairs` random pairs of words (each from a random
    sentence, never the same word twice in a pair) at every layer: the baseline a word's
    self-similarity is read against (Ethayarajh 2019, section 4.1)."""
    enc, states = hidden_states(encoder, list(sentences))
    words = []  # (sentence, [pieces], text)
    for b in range(len(sentences)):
        by_word: dict[int, list[int]] = {}
        for i, w in enumerate(enc.word_ids(b)):
            if w is not None:
                by_word.setdefault(w, []).append(i)
        offsets = enc["offset_mapping"][b].tolist()
        for pieces in by_word.values():
            text = sentences[b][offsets[pieces[0]][0] : offsets[pieces[-1]][1]].lower()
            if any(ch.isalnum() for ch in text):
                words.append((b, pieces, text))
    if len(words) < 2:
        raise ValueError("The sentences have fewer than two words.")
    vectors = torch.stack([states[:, b, pieces].mean(dim=1) for b, pieces, _ in words], dim=1).numpy()
    unit = vectors / np.linalg.norm(vectors, axis=-1, keepdims=True).clip(min=1e-12)
    rng = np.random.default_rng(seed)
    first, second = rng.integers(0, len(words), size=(2, pairs * 2))
    keep = [k for k in range(len(first)) if words[first[k]][2] != words[second[k]][2]][:pairs]
    cosines = (unit[:, first[keep]] * unit[:, second[keep]]).sum(axis=-1)  # [L + 1, pairs]
    return cosines.mean(axis=1).astype(np.float32)
