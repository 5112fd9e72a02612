"""One bounded in-memory LRU of answers, shared by every session of the app.

A class opening the same link asks the same questions: the first paint of every tab, the
examples, the sentence on the board. Each distinct question is computed once per process;
the others get the same answer object. Two identical questions arriving together compute it
once: the second waits for the first (an in-flight entry) instead of racing it.

The budget is in MB of the answers' payload (numpy arrays, strings, tables, figure specs),
estimated when an answer is stored; the least recently used answers leave when it is full.
No torch here.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import fields, is_dataclass
from typing import Any

DEFAULT_BUDGET_MB = 256.0  # EXPLORER_CACHE_MB overrides; 0 turns the cache off


def budget_mb() -> float:
    value = os.environ.get("EXPLORER_CACHE_MB", str(DEFAULT_BUDGET_MB)).strip()
    try:
        mb = float(value)
    except ValueError:
        raise ValueError(f"EXPLORER_CACHE_MB={value!r} is not a number of MB (0 turns the cache off).") from None
    if mb < 0:
        raise ValueError(f"EXPLORER_CACHE_MB={value!r} must be 0 or more.")
    return mb


def size_of(value: Any, seen: set[int] | None = None) -> int:
    """Bytes an answer holds, roughly: arrays by their buffers, tables by their columns,
    containers and dataclasses by their contents; each object counted once."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    nbytes = getattr(value, "nbytes", None)
    if isinstance(nbytes, int):  # numpy arrays
        return nbytes
    if hasattr(value, "memory_usage") and hasattr(value, "columns"):  # a pandas DataFrame
        return int(value.memory_usage(deep=True).sum())
    if isinstance(value, (str, bytes)):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_of(k, seen) + size_of(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(size_of(v, seen) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(size_of(getattr(value, f.name), seen) for f in fields(value))
    if hasattr(value, "__dict__"):
        return sys.getsizeof(value) + size_of(vars(value), seen)
    return sys.getsizeof(value)


class ResultCache:
    """key -> answer, least recently used out first, within `budget_mb`."""

    def __init__(self, budget_mb: float = DEFAULT_BUDGET_MB):
        self.budget = int(budget_mb * 1e6)
        self._answers: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._computing: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.bytes = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._answers)

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], keep: Callable[[Any], bool] = lambda _: True):
        """The stored answer for `key`, or compute() stored (if keep(answer)) and returned.
        An exception from compute() is raised and nothing is stored."""
        while True:
            with self._lock:
                if key in self._answers:
                    self._answers.move_to_end(key)
                    self.hits += 1
                    return self._answers[key][0]
                waiting = self._computing.get(key)
                if waiting is None:
                    self._computing[key] = threading.Event()
                    self.misses += 1
                    break
            waiting.wait()  # the same question is being answered: take that answer (or compute if it failed)
        try:
            answer = compute()
            if keep(answer):
                self._store(key, answer)
            return answer
        finally:
            with self._lock:
                self._computing.pop(key).set()

    def lookup(self, key: Hashable, wait: bool = False) -> tuple[bool, Any]:
        """(True, answer) when `key` is stored (it becomes the most recent), else (False, None).
        wait: when another thread is computing `key` (get_or_compute, computing), wait for it and
        take its answer: the batched endpoints ask this way, so a class's first request and the
        warm-up never compute the same answer twice."""
        while True:
            with self._lock:
                if key in self._answers:
                    self._answers.move_to_end(key)
                    self.hits += 1
                    return True, self._answers[key][0]
                waiting = self._computing.get(key) if wait else None
                if waiting is None:
                    self.misses += 1
                    return False, None
            waiting.wait()  # then look again: stored, or (a failure, an answer not kept) a miss

    @contextlib.contextmanager
    def computing(self, keys: Iterable[Hashable]) -> Iterator[list]:
        """Inside this block, this thread computes `keys` (a batch of them) and puts their answers:
        get_or_compute and lookup(wait=True) of one of them elsewhere wait for the block to end
        instead of computing it again. Yields the keys this thread claimed (one that another
        thread was computing already is not claimed, and is computed here too)."""
        claimed = []
        with self._lock:
            for key in keys:
                if key not in self._computing and key not in claimed:
                    self._computing[key] = threading.Event()
                    claimed.append(key)
        try:
            yield claimed
        finally:
            with self._lock:
                for key in claimed:
                    self._computing.pop(key).set()

    def put(self, key: Hashable, answer: Any) -> None:
        self._store(key, answer)

    def _store(self, key: Hashable, answer: Any) -> None:
        size = size_of(answer)
        if size > self.budget:
            return  # larger than the whole budget: served, not kept
        with self._lock:
            if key in self._answers:
                self.bytes -= self._answers.pop(key)[1]
            self._answers[key] = (answer, size)
            self.bytes += size
            while self.bytes > self.budget:
                _, (_, dropped) = self._answers.popitem(last=False)
                self.bytes -= dropped

    def stats(self) -> dict:
        with self._lock:
            return {"answers": len(self._answers), "mb": self.bytes / 1e6, "budget_mb": self.budget / 1e6,
                    "hits": self.hits, "misses": self.misses}  # fmt: skip
