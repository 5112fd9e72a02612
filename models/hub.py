"""What a model name typed by a user may be: a hub id, or (from Python only) a local folder.
No torch here: the app checks names before any model is loaded."""

from __future__ import annotations

import re
from pathlib import Path

# owner/name or a bare legacy name ("bert-base-uncased"): letters, digits, '-', '_', '.',
# no leading dot, at most 96 characters per part (the hub's own limit).
HUB_ID = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def is_dir(name: str) -> bool:
    try:
        return Path(name).expanduser().is_dir()
    except (OSError, ValueError):  # a name too long, or with a NUL, is no folder
        return False
