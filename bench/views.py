"""Each view's work against its floor, in this process.

view  = what the view's handler computes for one input: analyze + figures + the JSON of its
        plots (the server has to write that before it can answer); exports run only on request;
floor = the bare forward of the view's model(s) on tensors prepared beforehand, already on
        the device (models/floors.py): no tokenizing, no search bookkeeping, no figures.
view / floor is the view's overhead; 1 would mean the view costs nothing beyond the model.
Every view of explorer.VIEWS is measured on its own standard inputs (View.sample).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from explorer.core import figures as fg

from .timing import interleaved


@dataclass
class ViewCase:
    """One view on one standard input: the three functions timed against each other."""

    view: str
    size: int  # tokens of the input (sentences for the batch)
    inputs: dict  # the endpoint's inputs by name
    floor: Callable[[], object]
    run: Callable[[], object]  # the handler's work, start to end
    plots: Callable[[], object]  # the JSON of the plots alone, on an answer computed once


def plots_json(answer: dict) -> int:
    """Serialize every plot spec of a handler's answer, as explorer.web.ui does; returns the characters."""
    return sum(
        len(fg.plotly_json(value))
        for value in answer.values()
        if isinstance(value, dict) and "data" in value and "layout" in value
    )


def resolve(reference: str) -> Callable:
    module, function = reference.split(":")
    return getattr(importlib.import_module(module), function)


def view_models(view, runtime) -> dict:
    """The view's models by its handler's keywords, from the runtime (loaded once)."""
    return {keyword: runtime.get(name) for keyword, name in view.models.items()}


def cases(views, runtime) -> list[ViewCase]:
    """One ViewCase per view and standard input size (runs each handler once)."""
    out: list[ViewCase] = []
    for view in views:
        if view.sample is None or not view.floor:
            continue
        models = view_models(view, runtime)
        for size in view.bench_sizes:
            inputs = view.sample(size, models)
            answer = view.handler(**inputs, **models)

            def run(view=view, inputs=inputs, models=models):
                plots_json(view.handler(**inputs, **models))

            out.append(
                ViewCase(
                    view.api_name,
                    size,
                    inputs,
                    resolve(view.floor)(models, inputs),
                    run,
                    lambda answer=answer: plots_json(answer),
                )
            )
    return out


def measure(view_cases: list[ViewCase], repeats: int, warmup: int = 1) -> dict:
    """{"<view>/<size>": {"view_ms", "floor_ms", "plots_json_ms", "overhead"}}, medians of interleaved runs."""
    figures = {}
    for case in view_cases:
        t = interleaved({"floor": case.floor, "view": case.run, "plots": case.plots}, repeats, warmup)
        figures[f"{case.view}/{case.size}"] = {
            "view_ms": t["view"] * 1000,
            "floor_ms": t["floor"] * 1000,
            "plots_json_ms": t["plots"] * 1000,
            "overhead": t["view"] / t["floor"],
        }
    return figures
