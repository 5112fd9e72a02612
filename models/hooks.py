"""Forward hooks on the app's shared models that only the thread that made them sees.

The app serves many requests at once through one copy of each model (models/runtime.py): the
bundled MiniLM answers the Self-attention, Tags and NLI views. An analysis that hooks a module
(head ablation scales a head's output, the positions experiment zeroes the position embeddings,
one head step by step records a layer's output) must change or read only its own forward; every
other thread's output passes untouched (measured: a /tag forward that ran during a head-importance
batch failed on the ablation's row mask).
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def in_this_thread(change: Callable[[object], object]) -> Callable:
    """A forward hook (module, args, output) that returns change(output) for calls made by the
    thread that created it, and None (the output as it is) for every other thread."""
    owner = threading.get_ident()

    def hook(module, args, output):
        return change(output) if threading.get_ident() == owner else None

    return hook
