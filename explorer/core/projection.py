"""Vectors onto a plane: the first two principal axes (PCA) of a set of vectors, numpy only."""

from __future__ import annotations

import numpy as np


def pca_2d(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[n, d] -> (the n points on the first two principal axes [n, 2], the share of the variance
    each axis explains [2]). Centred, then the singular value decomposition; axes a sign convention
    makes stable (each axis's largest coordinate positive). Fewer than 2 points or no spread give
    zeros."""
    x = np.asarray(vectors, dtype=np.float64)
    n = x.shape[0]
    if n < 2:
        return np.zeros((n, 2)), np.zeros(2)
    centred = x - x.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    total = float((singular**2).sum())
    axes = axes[:2]
    signs = np.sign(axes[np.arange(len(axes)), np.abs(axes).argmax(axis=1)])
    axes = axes * signs[:, None]
    points = centred @ axes.T
    share = (singular[:2] ** 2) / total if total > 0 else np.zeros(len(axes))
    if points.shape[1] < 2:  # two points: one axis
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
        share = np.pad(share, (0, 2 - len(share)))
    return points, share
