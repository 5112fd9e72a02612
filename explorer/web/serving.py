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

import contextlib
import ctypes
import ctypes.util
import logging
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
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


# -- the warm-up: models, then what a class asks first; people's requests before it ------------
# Between two items the warm-up waits while people's requests are being answered, at most this
# long (then it goes on: under a class that never pauses it still ends, one short item at a time).
MAX_YIELD_S = 2.0
# Inside a long item (a section that reports its progress: the mask experiment trains for seconds)
# it waits at each report, at most this long: a request may be waiting for that very item.
MAX_STEP_YIELD_S = 0.3


class LiveRequests:
    """How many people's requests the server is answering now, so that the warm-up steps aside.

    Every request path counts itself (explorer/web/ui.py: the views' and sections' events, the
    batched API, the first paints); the warm-up thread's own calls, which go through the same
    paths, do not count (warming()).
    """

    def __init__(self):
        self._count = 0
        self._changed = threading.Condition()
        self._thread = threading.local()

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around a person's request (a no-op in the warm-up's own thread)."""
        if getattr(self._thread, "warming", False):
            yield
            return
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                self._changed.notify_all()

    @contextlib.contextmanager
    def warming(self) -> Iterator[None]:
        """Inside this block, this thread's requests are the warm-up's: not counted."""
        self._thread.warming = True
        try:
            yield
        finally:
            self._thread.warming = False

    def wait_idle(self, timeout: float) -> float:
        """Wait until no person's request is being answered, at most `timeout` s; seconds waited."""
        start = time.perf_counter()
        with self._changed:
            self._changed.wait_for(lambda: self._count == 0, timeout)
        return time.perf_counter() - start


LIVE = LiveRequests()


def model_names(views) -> list[str]:
    """The models of `views` in the order a class needs them: each tab's (in tab order), then its
    sections' (runtime.in_order puts each one's needs first)."""
    names = [m for view in views for m in view.models.values()]
    names += [m for view in views for section in view.sections for m in section.models.values()]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Item:
    """One answer the warm-up computes: /name's fn(*args), in one of the phases of warm_up."""

    phase: str
    name: str
    fn: Callable
    args: list
    long: bool = False  # it reports progress (takes a progress callable as its last argument)


def plan(first_paints: list) -> list[Item]:
    """What the warm-up computes, in the order a class asks (first_paints: (View, FirstPaint)):
    each tab's first paint (its default inputs), in tab order; the views' examples as the board
    shows them (every view's first example, then every view's second, ...); then the sections'
    examples, in tab order, the long ones (a training) last. An answer already planned is not
    planned again (a first paint is often the first example)."""
    paints, examples, sections, long = [], [], [], []
    for view, paint in first_paints:
        paints.append(Item("first paints", view.api_name, paint.fn, [c.value for c in paint.inputs]))
        painted = {extra.name: extra for extra in paint.linked if extra.name}
        for section in view.sections:
            if section.cached and section.api_name in painted:  # a measurement is never cached: not warmed
                fn = painted[section.api_name].fn
                for e in section.examples:
                    item = Item("sections", section.api_name, fn, section.api_args(e), long=section.progress)
                    (long if section.progress else sections).append(item)
    rounds = max((len(view.examples) for view, _ in first_paints), default=0)
    for k in range(rounds):
        for view, paint in first_paints:
            if k < len(view.examples):
                examples.append(Item("examples", view.api_name, paint.fn, view.api_args(view.examples[k])))
    planned, seen = [], set()
    for item in paints + examples + sections + long:
        key = (id(item.fn), repr(item.args))
        if key not in seen:
            seen.add(key)
            planned.append(item)
    return planned


def say(line: str) -> None:
    """A warm-up line on stderr (bench/startup.py MILESTONES reads them)."""
    print(line, file=sys.stderr, flush=True)


def load_models(runtime, names: list[str], started: float) -> threading.Thread:
    """runtime.load_in_background(names), saying when every model is loaded (the time from
    `started`, a time.perf_counter()). Returns the loading thread."""
    total = len(runtime.in_order(names))
    done = []

    def loaded(name: str) -> None:
        done.append(name)
        if len(done) == total:
            say(f"warm-up: every model loaded ({total}) at {time.perf_counter() - started:.1f} s")

    return runtime.load_in_background(names, on_loaded=loaded)


def warm_up(first_paints: list, runtime=None, started: float | None = None, live: LiveRequests = LIVE) -> None:
    """Warm the app up, in the order a class asks, stepping aside for people's requests:
    1. the models: wait for the runtime's background load (app.py starts it before the page is
       built: load_models), or load the views' models here if none ran;
    2. every tab's first paint; 3. the views' examples; 4. the sections' examples (plan()).
    Between items it waits while people's requests are answered (live, at most MAX_YIELD_S), and
    a long item waits at each progress report (at most MAX_STEP_YIELD_S). Each answer goes to the
    shared cache, where a request asking the same thing meanwhile waits for it (never computed
    twice). Writes a line when every model is loaded, when every first paint is cached, and when
    it is done (times from `started`, a time.perf_counter(); default: the warm-up's start).
    first_paints: (View, FirstPaint) pairs from app.build_demo; a failure is logged and the rest go on."""
    log = logging.getLogger("explorer")
    start = time.perf_counter()
    started = start if started is None else started
    spent: dict[str, float] = {}
    waited = 0.0

    def step(*_, **__) -> None:  # a long item's progress report: step aside for a person's request
        nonlocal waited
        waited += live.wait_idle(MAX_STEP_YIELD_S)

    with live.warming():
        if runtime is not None:
            names = model_names(view for view, _ in first_paints)
            if runtime.loading() is None and not set(runtime.in_order(names)) <= set(runtime.loaded()):
                load_models(runtime, names, started).join()  # none loads in the background (app.py starts one)
            runtime.wait_loaded()
            spent["models"] = time.perf_counter() - start
        items = plan(first_paints)
        for number, item in enumerate(items):
            waited += live.wait_idle(MAX_YIELD_S)
            began = time.perf_counter()
            try:
                item.fn(*item.args, step) if item.long else item.fn(*item.args)
            except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server
                log.exception("warm-up of /%s failed", item.name)
            spent[item.phase] = spent.get(item.phase, 0.0) + time.perf_counter() - began
            if item.phase == "first paints" and (number + 1 == len(items) or items[number + 1].phase != item.phase):
                say(f"warm-up: every first paint cached ({number + 1}) at {time.perf_counter() - started:.1f} s")
    parts = ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in spent.items())
    say(
        f"warm-up done in {time.perf_counter() - start:.1f} s, at {time.perf_counter() - started:.1f} s "
        f"({parts}; {waited:.1f} s stepped aside for people's requests)"
    )


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
