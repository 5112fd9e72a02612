"""Counts in words, for the status lines of every view."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 sentence', '2 sentences': a count with its noun in the right number."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"
