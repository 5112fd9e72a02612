"""How the app serves a classroom: queue sizes, concurrency, dynamic batching, launch settings.

Every choice here is measured by `python bench/load_test.py` (50 clients mixing the five
endpoints); the figures are in the README's Reliability section.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

# One request at a time per view: the models are shared read-only, and on a small CPU two
# torch forwards at once only fight over the same cores (each already uses every core).
# Five views can still run side by side, one request each.
CONCURRENCY_PER_VIEW = 1
# Requests waiting beyond this get Gradio's "queue is full" message at once, instead of a
# timeout minutes later. A class of 50 typing into live views stays well below it, because
# keystrokes collapse into the newest one per user (trigger_mode="always_last").
QUEUE_MAX_SIZE = 256
# Dynamic batching of the API endpoints whose model reads a batch in one forward (the tagger,
# the NLI model): up to this many queued requests share one forward.
MAX_BATCH = 8


# glibc gives each thread that allocates at once a malloc arena of its own (up to 8 per core),
# and memory freed into one arena is not reused by the others: under a class, Gradio's worker
# threads running torch on sentences of every length grew the server by 10 MB per 10 s without
# end (850 -> 945 MB in 90 s). Two arenas leveled it off (+5 %, measured), at no measured cost in
# latency. MALLOC_ARENA_MAX in the environment overrides this.
MALLOC_ARENAS = 2


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas (mallopt M_ARENA_MAX) before the server's threads start; returns
    whether it was set (not on other C libraries, nor when MALLOC_ARENA_MAX is already given)."""
    import ctypes
    import ctypes.util
    import platform

    if os.environ.get("MALLOC_ARENA_MAX") or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    M_ARENA_MAX = -8  # from glibc's malloc.h
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


def batching_enabled() -> bool:
    """EXPLORER_BATCHING=0 turns dynamic batching off (the load test compares both)."""
    return os.environ.get("EXPLORER_BATCHING", "1").strip().lower() not in ("0", "false", "no", "off")


def launch_settings() -> dict:
    """Keyword arguments for demo.launch(): local only unless GRADIO_SERVER_NAME says otherwise,
    no share link, no extra readable paths (bertviz's scripts are registered by name)."""
    port = os.environ.get("GRADIO_SERVER_PORT", "7860").strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"GRADIO_SERVER_PORT={port!r} is not a port number (1-65535), e.g. GRADIO_SERVER_PORT=7861.")
    return {
        "server_name": os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        "server_port": int(port),
        "share": False,
        "allowed_paths": [],
    }


def port_problem(host: str, port: int) -> str | None:
    """Why the app cannot listen on host:port (one line naming the variable that changes it), or None."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as err:
            return (
                f"Port {port} on {host} is taken (another `python app.py`?) or not allowed ({err.strerror}). "
                f"Stop the other server, or choose another port: GRADIO_SERVER_PORT={port + 1} python app.py"
            )
    return None


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
    """Compute each view's first paint and examples once, in order, so their answers (and the
    models behind them) are in the shared cache before the class asks. first_paints: (View,
    FirstPaint) pairs from app.build_demo; a failure is logged and the rest go on."""
    import logging
    import sys
    import time

    log = logging.getLogger("explorer")
    start = time.perf_counter()
    for view, paint in first_paints:
        defaults = [component.value for component in paint.inputs]
        for args in [defaults] + [view.api_args(example) for example in view.examples]:
            try:
                paint.fn(*args)
            except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server
                log.exception("warm-up of /%s failed", view.api_name)
    print(f"warm-up done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
