"""Models loaded once, on first use, and shared read-only by every request.

Loading is lazy so the app's first page appears before any weights are read, and
locked so that two first requests arriving together load a model only once.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def shared(name: str, load: Callable[[], Any]) -> Any:
    """The model registered under `name`, loading it with `load()` the first time."""
    if name not in _loaded:
        with _lock:
            if name not in _loaded:
                _loaded[name] = load()
    return _loaded[name]


def tagger():
    from .tagger import load_tagger

    return shared("tagger", load_tagger)


def translator(variant: str = "attention"):
    from .translator import load_translator

    return shared(f"translator/{variant}", lambda: load_translator(variant))
