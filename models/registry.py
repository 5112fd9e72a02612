"""Models loaded once, on first use, and shared read-only by every request.

Loading is lazy so the app's first page appears before any weights are read, and
locked so that two first requests arriving together load a model only once.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import torch

_lock = threading.Lock()
_loaded: dict[str, Any] = {}
# Per thread (= per request in Gradio's worker threads): set while a request is retried on
# the CPU after CUDA ran out of memory, so that request alone gets CPU copies of the models.
_request = threading.local()


@contextlib.contextmanager
def cpu_only() -> Iterator[None]:
    """Inside this block, this thread's model lookups give CPU copies (loaded once, shared)."""
    before = getattr(_request, "cpu_only", False)
    _request.cpu_only = True
    try:
        yield
    finally:
        _request.cpu_only = before


def _cpu_wanted() -> bool:
    return getattr(_request, "cpu_only", False)


def shared(name: str, load: Callable[..., Any]) -> Any:
    """The model registered under `name`, loading it with `load()` the first time.
    Under cpu_only(), the CPU copy: `load(device=cpu)`, registered as `name@cpu`."""
    if _cpu_wanted():
        name, plain = f"{name}@cpu", load
        load = lambda: plain(device=torch.device("cpu"))  # noqa: E731
    if name not in _loaded:
        with _lock:
            if name not in _loaded:
                _loaded[name] = load()
    return _loaded[name]


def tagger():
    from .tagger import load_tagger

    return shared("tagger", load_tagger)


_encoder_lock = threading.Lock()
_named_encoder: dict[str, Any] = {}


def encoder(name: str | None = None):
    """The bundled encoder (shared), or the one named: only the last named one stays loaded,
    so a stream of different names cannot fill the server's memory."""
    from .encoder import load_encoder

    name = (name or "").strip()
    if not name:
        return shared("encoder", load_encoder)
    if _cpu_wanted():
        return load_encoder(name, device=torch.device("cpu"))  # a rare retry of a rare model: not kept
    with _encoder_lock:
        if name not in _named_encoder:
            _named_encoder.clear()
            _named_encoder[name] = load_encoder(name)
        return _named_encoder[name]


def nli():
    from .nli import load_nli

    return shared("nli", load_nli)


def translator(variant: str = "attention"):
    from .translator import load_translator

    return shared(f"translator/{variant}", lambda **device: load_translator(variant, **device))
