"""Masks and the masked loss shared by every model trained on padded batches (d2l 9.7)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def sequence_mask(lengths: torch.Tensor, max_len: int | None = None) -> torch.Tensor:
    """mask[b, t] = t < lengths[b]; returns bool [B, T]."""
    max_len = int(lengths.max()) if max_len is None else max_len
    steps = torch.arange(max_len, device=lengths.device)  # (T,)
    return steps[None, :] < lengths[:, None].to(steps.device)  # (B, T)


def token_losses(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy of every cell, PAD cells included: [B, T, C], [B, T] -> [B, T].

    label_smoothing = eps trains towards (1 - eps) on the gold class and eps / C on every class.
    """
    B, T, C = logits.shape
    return F.cross_entropy(
        logits.reshape(B * T, C), targets.reshape(B * T), reduction="none", label_smoothing=label_smoothing
    ).view(B, T)


def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, label_smoothing: float = 0.0
) -> torch.Tensor:
    """Mean cross-entropy over real tokens only: sum(loss * mask) / sum(mask).

    A plain mean over [B, T] would also average the PAD cells, whose targets are
    meaningless, and would weight short sentences by how much padding they carry.
    """
    losses = token_losses(logits, targets, label_smoothing)  # (B, T)
    mask = mask.to(losses.dtype)
    return (losses * mask).sum() / mask.sum().clamp(min=1.0)
