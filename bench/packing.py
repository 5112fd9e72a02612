"""Padded vs packed BiLSTM on the 16-sentence batch: the Batch view's own measurement."""

from __future__ import annotations

from dataclasses import asdict

from explorer.views.batching import analysis as batching

VIEW = "batch"  # the view whose padded vs packed timing this is (its /batch_cost endpoint)


def measure(tagger, text: str, repeats: int) -> dict:
    """explorer.views.batching.analysis.packing_cost as a dict: forward and forward+backward ms, padded and packed."""
    cost = asdict(batching.packing_cost(text, tagger, repeats))
    return {key: value for key, value in cost.items() if key.endswith("_ms") or key == "max_state_difference"}
