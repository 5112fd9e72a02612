"""Two inputs' tokens lined up, and the difference of two matrices over the lined-up pairs: what
the comparisons of two inputs (explorer/views/comparison.py) compute with.

Tokens line up when they are the same token in the same order: difflib's matching blocks over
the two token lists (so "…too tired ." and "…too wide ." line up everywhere but one word, and an
inserted word shifts nothing after it). The difference is taken over those pairs only; a token
of one input with no partner in the other has no row or column there.
"""

from __future__ import annotations

import difflib

import numpy as np


def line_up(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Index pairs (i, j) with a[i] == b[j], in order, from difflib's longest matching blocks."""
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(blk.a + k, blk.b + k) for blk in matcher.get_matching_blocks() for k in range(blk.size)]


def difference(A: np.ndarray, B: np.ndarray, rows: list[tuple[int, int]], cols: list[tuple[int, int]]) -> np.ndarray:
    """D[u, v] = A[rows[u][0], cols[v][0]] - B[rows[u][1], cols[v][1]]: float[len(rows), len(cols)]."""
    ra, rb = [i for i, _ in rows], [j for _, j in rows]
    ca, cb = [i for i, _ in cols], [j for _, j in cols]
    return A[np.ix_(ra, ca)] - B[np.ix_(rb, cb)]
