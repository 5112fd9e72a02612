"""The decomposable attention model for NLI (Parikh et al. 2016, "A Decomposable Attention
Model for Natural Language Inference"; d2l 16.5): attend, compare, aggregate.

Given premise word vectors a = (a_1..a_m) and hypothesis word vectors b = (b_1..b_n):

    attend:    e_ij = F(a_i)ᵀ F(b_j)
               beta_i  = sum_j softmax_j(e_ij) b_j     (the part of b soft-aligned to a_i)
               alpha_j = sum_i softmax_i(e_ij) a_i     (the part of a soft-aligned to b_j)
    compare:   v1_i = G([a_i; beta_i]),  v2_j = G([b_j; alpha_j])
    aggregate: v1 = sum_i v1_i,  v2 = sum_j v2_j,  y = H([v1; v2])  (3 label scores)

F, G, H are 2-layer ReLU MLPs. The two sentences meet only in e_ij, and F is applied to each
word on its own, so the m x n scores cost m + n evaluations of F and one matrix product.
Optional intra-sentence attention (the paper's section 3.4) first gives each word a summary
of its own sentence: f_ij = F_intra(a_i)ᵀ F_intra(a_j) + d(i - j), a_i <- [a_i; sum_j softmax_j(f_ij) a_j].
Everything here works on padded batches with boolean masks, dims B (pairs), m, n (words), D.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn


def mlp(d_in: int, hidden: int, dropout: float) -> nn.Sequential:
    """The paper's F/G/H body: two ReLU layers, dropout before each."""
    return nn.Sequential(
        nn.Dropout(dropout),
        nn.Linear(d_in, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
    )


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor, dim: int) -> torch.Tensor:
    """softmax over `dim` where mask is True; masked cells get exactly 0 weight."""
    scores = scores.masked_fill(~mask, torch.finfo(scores.dtype).min)
    return torch.softmax(scores, dim=dim)


@dataclass
class Attended:
    """What attend computes for one batch.

    e: float[B, m, n], raw scores e_ij
    premise_to_hypothesis: float[B, m, n], softmax over j (beta weights), rows sum to 1
    hypothesis_to_premise: float[B, n, m], softmax over i (alpha weights), rows sum to 1
    beta: float[B, m, D], alpha: float[B, n, D]
    """

    e: torch.Tensor
    premise_to_hypothesis: torch.Tensor
    hypothesis_to_premise: torch.Tensor
    beta: torch.Tensor
    alpha: torch.Tensor


class Attend(nn.Module):
    """e_ij = F(a_i)ᵀ F(b_j); beta_i = sum_j softmax_j(e_ij) b_j; alpha_j = sum_i softmax_i(e_ij) a_i."""

    def __init__(self, d_in: int, hidden: int, dropout: float):
        super().__init__()
        self.f = mlp(d_in, hidden, dropout)

    def forward(self, A: torch.Tensor, B: torch.Tensor, mask_a: torch.Tensor, mask_b: torch.Tensor) -> Attended:
        f_a, f_b = self.f(A), self.f(B)  # (B, m, H), (B, n, H): m + n evaluations of F
        e = torch.bmm(f_a, f_b.transpose(1, 2))  # (B, m, n)
        pair_mask = mask_a[:, :, None] & mask_b[:, None, :]  # (B, m, n)
        p2h = masked_softmax(e, pair_mask, dim=2)  # (B, m, n), rows over j
        h2p = masked_softmax(e.transpose(1, 2), pair_mask.transpose(1, 2), dim=2)  # (B, n, m), rows over i
        beta = torch.bmm(p2h, B)  # (B, m, D)
        alpha = torch.bmm(h2p, A)  # (B, n, D)
        return Attended(e, p2h, h2p, beta, alpha)


class Compare(nn.Module):
    """v1_i = G([a_i; beta_i]), v2_j = G([b_j; alpha_j]): each word against what it aligned to."""

    def __init__(self, d_in: int, hidden: int, dropout: float):
        super().__init__()
        self.g = mlp(2 * d_in, hidden, dropout)

    def forward(self, A, B, beta, alpha) -> tuple[torch.Tensor, torch.Tensor]:
        return self.g(torch.cat([A, beta], dim=-1)), self.g(torch.cat([B, alpha], dim=-1))  # (B, m, H), (B, n, H)


class Aggregate(nn.Module):
    """v1 = sum_i v1_i, v2 = sum_j v2_j (real words only); label scores y = H([v1; v2])."""

    def __init__(self, hidden: int, n_labels: int, dropout: float):
        super().__init__()
        self.h = nn.Sequential(mlp(2 * hidden, hidden, dropout), nn.Linear(hidden, n_labels))

    @staticmethod
    def sums(V1, V2, mask_a, mask_b) -> tuple[torch.Tensor, torch.Tensor]:
        return (V1 * mask_a[..., None]).sum(1), (V2 * mask_b[..., None]).sum(1)  # (B, H), (B, H)

    def forward(self, V1, V2, mask_a, mask_b) -> torch.Tensor:
        v1, v2 = self.sums(V1, V2, mask_a, mask_b)
        return self.scores(v1, v2)

    def scores(self, v1: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
        return self.h(torch.cat([v1, v2], dim=-1))  # (..., n_labels)


class IntraAttention(nn.Module):
    """a_i <- [a_i; sum_j softmax_j(F_intra(a_i)ᵀ F_intra(a_j) + d(i - j)) a_j]  (doubles D).

    d is a learned bias per distance bucket, |i - j| clipped at max_distance (the paper's 10).
    """

    def __init__(self, d_in: int, hidden: int, dropout: float, max_distance: int = 10):
        super().__init__()
        self.f = mlp(d_in, hidden, dropout)
        self.max_distance = max_distance
        self.distance_bias = nn.Embedding(2 * max_distance + 1, 1)

    def forward(self, X: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        T = X.shape[1]
        f = self.f(X)  # (B, T, H)
        pos = torch.arange(T, device=X.device)
        offset = (pos[None, :] - pos[:, None]).clamp(
            -self.max_distance, self.max_distance
        ) + self.max_distance  # (T, T)
        scores = torch.bmm(f, f.transpose(1, 2)) + self.distance_bias(offset).squeeze(-1)  # (B, T, T)
        weights = masked_softmax(scores, mask[:, :, None] & mask[:, None, :], dim=2)
        return torch.cat([X, torch.bmm(weights, X)], dim=-1)  # (B, T, 2D)


@dataclass
class DAOutput:
    """logits: float[B, n_labels]; attended: Attended (what attend computed); V1: float[B, m, H]; V2: float[B, n, H]"""

    logits: torch.Tensor
    attended: Attended
    V1: torch.Tensor
    V2: torch.Tensor


class DecomposableAttention(nn.Module):
    """Attend -> compare -> aggregate over word vectors A [B, m, D], B [B, n, D] with masks."""

    def __init__(
        self,
        d_in: int,
        hidden: int = 200,
        n_labels: int = 3,
        dropout: float = 0.2,
        intra_attention: bool = False,
        intra_max_distance: int = 10,
    ):
        super().__init__()
        self.intra = IntraAttention(d_in, hidden, dropout, intra_max_distance) if intra_attention else None
        d = 2 * d_in if intra_attention else d_in
        self.attend = Attend(d, hidden, dropout)
        self.compare = Compare(d, hidden, dropout)
        self.aggregate = Aggregate(hidden, n_labels, dropout)

    def forward(self, A, B, mask_a, mask_b) -> DAOutput:
        if self.intra is not None:
            A, B = self.intra(A, mask_a), self.intra(B, mask_b)
        al = self.attend(A, B, mask_a, mask_b)
        V1, V2 = self.compare(A, B, al.beta, al.alpha)
        return DAOutput(self.aggregate(V1, V2, mask_a, mask_b), al, V1, V2)

    @torch.no_grad()
    def leave_one_out(self, out: DAOutput, mask_a, mask_b, label: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """How much each word's comparison vector adds to the score of `label` [B]:

        premise word i: y_c(v1, v2) - y_c(v1 - v1_i, v2); hypothesis word j likewise with v2_j.
        H is non-linear, so these need not add up to y_c; each is exact for its own removal.
        Returns float[B, m] and float[B, n] (0 at padding).
        """
        v1, v2 = self.aggregate.sums(out.V1, out.V2, mask_a, mask_b)  # (B, H)
        full = out.logits.gather(1, label[:, None])  # (B, 1)
        without_a = self.aggregate.scores(v1[:, None] - out.V1, v2[:, None].expand_as(out.V1))  # (B, m, C)
        without_b = self.aggregate.scores(v1[:, None].expand_as(out.V2), v2[:, None] - out.V2)  # (B, n, C)
        idx_a = label[:, None, None].expand(-1, out.V1.shape[1], 1)
        idx_b = label[:, None, None].expand(-1, out.V2.shape[1], 1)
        drop_a = (full - without_a.gather(2, idx_a).squeeze(-1)) * mask_a
        drop_b = (full - without_b.gather(2, idx_b).squeeze(-1)) * mask_b
        return drop_a, drop_b
