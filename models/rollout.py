"""Attention rollout (Abnar & Zuidema 2020, "Quantifying attention flow in transformers"), in
numpy only, so explorer/ can call it on attentions it already has without importing torch."""

from __future__ import annotations

import numpy as np


def rollout(attentions: np.ndarray) -> np.ndarray:
    """Attention rollout R = Â_L ⋯ Â_1 with Â_l = rows renormalized of 0.5 · mean_h A_l + 0.5 · I.

    attentions: float[L, H, T, T], rows sum to 1. Returns float64[T, T], rows sum to 1: R[i, j] is
    how much of the last layer's token i traces back to input token j when attention is the only
    way tokens mix and the residual keeps half of each token (Abnar & Zuidema 2020, section 3).
    """
    a = np.asarray(attentions, dtype=np.float64)
    L, _, T, _ = a.shape
    mixed = 0.5 * a.mean(axis=1) + 0.5 * np.eye(T)[None]  # (L, T, T)
    mixed /= mixed.sum(axis=-1, keepdims=True)
    R = np.eye(T)
    for layer in range(L):  # R_l = Â_l R_{l-1}: the newest layer on the left
        R = mixed[layer] @ R
    return R
