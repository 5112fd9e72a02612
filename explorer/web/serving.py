"""How the app serves a classroom: threads, concurrency, batching, queue, warm-up (the malloc
arenas and the launch settings are app.py's: they come before gradio is imported; the answers
stored once per process and the configs reused are explorer/web/gradio_internals.py's).

Chosen from `python bench/load_test.py` (a classroom: students with think time, board and own
sentences, every endpoint; README "Serving a classroom"), on the 2-core VM a free Space also has.
Measured 2026-12-01 at 100 students x 60 s, batching on, nothing else running:

| torch threads | requests at once per event | p50 s | p95 s | answers per server CPU second |
|---|---|---|---|---|
| 2 (torch's default here) | 1 | 0.088 | 1.10 | 22.8 |
| 1 | 1 | 0.092 | 1.14 | 24.9 |
| 1 | 2 | 0.077 | 1.29 | 25.6 |

The waits differ by less than one run differs from the next; what does not is the CPU an answer
costs. So: one torch thread per forward (app.py sets OMP_NUM_THREADS=1 before torch is imported;
a class keeps both cores busy with requests, and a small forward gains little from a second
thread), and one request at a time per event (Gradio counts each event listener apart, so the
six views' endpoints, their live versions and first paints still run side by side; a second
slot per event gave no shorter wait). What bounds a process is Python:
Gradio's queue, pre/postprocessing and JSON run under one interpreter lock, about 25 answers per
CPU second, so a bigger course takes more processes (README "Serving a larger course").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

# One request at a time per event listener (the table above): the models are shared read-only,
# and the views' events still run side by side, one request each.
CONCURRENCY_PER_VIEW = int(os.environ.get("EXPLORER_CONCURRENCY", "1"))  # the load test compares 1 and 2
# Requests waiting beyond this get Gradio's "queue is full" message at once, instead of a
# timeout minutes later. A class of 50 typing into live views stays well below it, because
# keystrokes collapse into the newest one per user (trigger_mode="always_last").
QUEUE_MAX_SIZE = 256
# Dynamic batching of the API endpoints whose model reads a batch in one forward (the tagger,
# the NLI model, greedy translation): up to this many queued requests share one forward.
MAX_BATCH = 8


def batching_enabled() -> bool:
    """EXPLORER_BATCHING=0 turns dynamic batching off (the load test compares both)."""
    return os.environ.get("EXPLORER_BATCHING", "1").strip().lower() not in ("0", "false", "no", "off")


def each_checked(inputs: Sequence, check: Callable[[Any], Any], run_many: Callable[[list], list]) -> tuple[list, int]:
    """Check each request's input alone, then run the model once on all that passed.

    Returns, in the order of `inputs`, each one's result or the ValueError its check raised,
    and how many went through the model together. This is what lets one batch hold a bad
    request without failing the good ones.
    """
    checked: list = []
    for item in inputs:
        try:
            checked.append(check(item))
        except ValueError as err:
            checked.append(err)
    good = [c for c in checked if not isinstance(c, ValueError)]
    results = iter(run_many(good) if good else [])
    return [c if isinstance(c, ValueError) else next(results) for c in checked], len(good)


def warm_up(first_paints: list) -> None:
    """Compute each view's first paint and examples once, in order, then every section's examples, so
    their answers (and the models behind them) are in the shared cache before the class asks.
    first_paints: (View, FirstPaint) pairs from app.build_demo; a failure is logged and the rest go on."""
    log = logging.getLogger("explorer")
    start = time.perf_counter()
    runs, later = [], []
    for view, paint in first_paints:
        defaults = [component.value for component in paint.inputs]
        runs += [(view.api_name, paint.fn, args) for args in [defaults] + [view.api_args(e) for e in view.examples]]
        painted = {extra.name: extra for extra in paint.linked if extra.name}
        for section in view.sections:
            if section.cached and section.api_name in painted:  # a measurement is never cached: not warmed
                fn = painted[section.api_name].fn
                later += [(section.api_name, fn, section.api_args(e)) for e in section.examples]
    # Every tab's first paint before any section (a class opens tabs first; the mask experiment's
    # section trains for seconds).
    for name, fn, args in runs + later:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server
            log.exception("warm-up of /%s failed", name)
    print(f"warm-up done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


def release_freed_memory() -> bool:
    """Give the memory freed inside the process back to the OS (glibc's malloc_trim). Called after
    a training (the mask experiment): a training allocates and frees many tensors of every size,
    interleaved with the class's requests, and glibc keeps the freed pages in its arenas: over a
    lesson of 50 students, three of them training (bench/load_test.py, 20 trainings), the server
    grew 12.1 % without this and 3.4 % with it (p95 0.080 vs 0.075 s). Returns False where there
    is no glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.malloc_trim(0))
