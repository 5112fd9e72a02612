"""Timing helpers: medians of interleaved runs, and the clock stopped only after the GPU is done."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def synchronize() -> None:
    """Wait for queued CUDA work, so a timer measures it (a no-op on the CPU)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def interleaved(runs: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median seconds of each function, the functions run in turn `repeats` times after
    `warmup` untimed rounds. Taking turns means a busy neighbour slows all of them alike,
    so their ratios stay meaningful on a shared machine."""
    for _ in range(warmup):
        for fn in runs.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            synchronize()
            start = time.perf_counter()
            fn()
            synchronize()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}
