"""One-hot vectors vs learned input embeddings, on MiniLM's word-piece embedding table.

A word piece with vocabulary id w is the one-hot vector 1_w in R^V; the embedding layer is the
product e_w = 1_w^T E with E in R^{V x d} (V = 30,522 pieces, d = 384 for all-MiniLM-L6-v2), so
every two distinct one-hot vectors are orthogonal (cosine 0), while their embeddings are not.
A word of several pieces is the mean of its pieces' one-hot vectors (so its embedding is the
mean of their rows of E), as models.minilm.PretrainedWordVectors does in its "input" mode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .minilm import MiniLM, load_minilm


@dataclass(frozen=True, kw_only=True)
class WordVectors:
    """A few words as one-hot vectors and as input embeddings.

    words: list[str], N distinct words (lower-cased: the vocabulary is uncased)
    pieces: N lists of the word pieces each word is made of
    onehot_cosine: float[N, N], cosine of the words' (mean) one-hot vectors over the vocabulary;
        0 between words that share no piece, 1 on the diagonal
    embedding_cosine: float[N, N], cosine of their input embeddings (mean of their pieces' rows of E)
    neighbours: N lists of (piece, cosine): the whole-word pieces of the vocabulary nearest to each
        word's embedding, best first, the word itself left out
    vocabulary: V, the one-hot vectors' length; dim: d, the embeddings'
    """

    words: list[str]
    pieces: list[list[str]]
    onehot_cosine: np.ndarray
    embedding_cosine: np.ndarray
    neighbours: list[list[tuple[str, float]]]
    vocabulary: int
    dim: int


def _cosine(x: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine of the rows of x (N, D) -> (N, N)."""
    unit = torch.nn.functional.normalize(x, dim=-1)
    return unit @ unit.T


class InputEmbeddings:
    """MiniLM's input embedding table E [V, d], shared with the loaded model (no copy)."""

    def __init__(self, minilm: MiniLM):
        self.tokenizer = minilm.tokenizer
        self.table = minilm.bert.embeddings.word_embeddings.weight  # (V, d), frozen
        self.device = self.table.device
        vocab = self.tokenizer.get_vocab()  # piece -> id
        self.pieces = [""] * len(vocab)
        for piece, i in vocab.items():
            self.pieces[i] = piece
        # Neighbours are whole words: no "##" continuations, no [unused*] / [CLS] slots, letters only.
        whole = [p.isalpha() and not p.startswith("##") for p in self.pieces]
        self.candidates = torch.tensor(whole, dtype=torch.bool, device=self.device)  # (V,)
        with torch.no_grad():
            self.norms = self.table.norm(dim=-1).clamp(min=1e-12)  # (V,): once, not per request

    @property
    def vocabulary(self) -> int:
        return self.table.shape[0]

    def split(self, words: list[str]) -> list[list[int]]:
        """Each word's word-piece ids (no [CLS] / [SEP])."""
        encodings = self.tokenizer.encode_batch([[w] for w in words], is_pretokenized=True, add_special_tokens=False)
        return [e.ids for e in encodings]

    @torch.no_grad()
    def compare(self, words: list[str], k: int = 5) -> WordVectors:
        """words (distinct, each with at least one piece) -> WordVectors with k neighbours each."""
        ids = self.split(words)
        N, V = len(words), self.vocabulary
        onehot = torch.zeros(N, V, device=self.device)  # (N, V): mean one-hot of each word's pieces
        for n, word_ids in enumerate(ids):
            onehot[n, word_ids] += 1.0 / len(word_ids)
        embedded = onehot @ self.table  # (N, d): e = 1^T E, the embedding layer as a product
        scores = (self.table @ embedded.T) / (self.norms[:, None] * embedded.norm(dim=-1).clamp(min=1e-12))  # (V, N)
        scores[~self.candidates] = -2.0
        for n, word_ids in enumerate(ids):
            scores[word_ids, n] = -2.0  # the word itself is not its own neighbour
        best = scores.topk(k, dim=0)  # (k, N)
        neighbours = [
            [(self.pieces[int(i)], float(c)) for c, i in zip(best.values[:, n], best.indices[:, n])] for n in range(N)
        ]
        return WordVectors(
            words=list(words),
            pieces=[[self.pieces[i] for i in word_ids] for word_ids in ids],
            onehot_cosine=_cosine(onehot).cpu().numpy().astype(np.float64),
            embedding_cosine=_cosine(embedded).cpu().numpy().astype(np.float64),
            neighbours=neighbours,
            vocabulary=V,
            dim=self.table.shape[1],
        )


def load_embeddings(device: torch.device | None = None, minilm: MiniLM | None = None) -> InputEmbeddings:
    """The input embeddings of the shared MiniLM (models.runtime passes it in)."""
    return InputEmbeddings(minilm or load_minilm(device))
