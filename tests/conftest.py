"""Shared fixtures and the rule for missing prerequisites.

In CI (CI=true) a test whose prerequisite (../shared/data, chromium) is missing FAILS,
so a green run means everything really ran; on a user's machine it is skipped with the reason.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI prerequisite missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tiny_tagger():
    from fakes import tiny_tagger as make

    return make()


@pytest.fixture(scope="session")
def bundled_tagger():
    from models import load_tagger

    return load_tagger()
