"""Files a view offers for download: one fresh folder per request, old ones removed.

Gradio copies a returned file into its own cache before serving it, so our copy is only
needed for a moment; pruning keeps a busy server's temp folder from growing without bound.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(tempfile.gettempdir()) / "sequence-explorer-exports"
MAX_AGE_S = 600


def request_folder(view: str) -> Path:
    """A new folder for one request of `view`; this view's folders older than MAX_AGE_S go."""
    parent = ROOT / view
    parent.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - MAX_AGE_S
    for old in parent.iterdir():
        try:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        except FileNotFoundError:  # another request pruned it first
            pass
    return Path(tempfile.mkdtemp(dir=parent))
