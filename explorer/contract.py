"""The view contract: what one view of the app declares, so that app.py, bench/ and the tests
loop over one list (explorer.VIEWS) and a new view is one module plus one line there.

A view reads top to bottom in its own module (explorer/views/<view>.py):
    analyze(inputs..., models...) -> a plain, frozen result (numpy arrays and strings)
    figures(result, ...)          -> plotly specs, DataFrames, escaped markdown, by name
    handler(inputs..., models...) -> the main endpoint's outputs by name (analyze, then figures)
    build(view, runtime)          -> the tab's components and events (Gradio only here); its first paint
A view with sections is a package (explorer/views/<view>/): analysis.py holds the first three,
which its sections use too, and tab.py the build and the View.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """How one request was computed: on which device, in how many seconds (the analysis only,
    not model loading), and how many queued requests shared the same forward."""

    device: str
    seconds: float
    batch: int = 1


@dataclass(frozen=True)
class FirstPaint:
    """What a tab runs once the page has opened: fn(*inputs) -> outputs (Gradio components).

    linked: sections of the tab painted only when a deep link fills one of their inputs (the
        comparison with a second input), each a FirstPaint of its own (explorer/web/deep_links.py)
    """

    fn: Callable
    inputs: list
    outputs: list
    linked: tuple = ()


@dataclass(frozen=True, kw_only=True)
class View:
    """One tab of the app and its API endpoint /<api_name>.

    models: the handler's keyword -> a model name of models.runtime.MODELS; the runtime loads
        them once and passes them in (tests pass tiny fakes instead)
    inputs: the main endpoint's inputs, in API order; their names are the handler's parameters
    handler: inputs + models -> dict of outputs by name (the names `build` gives its components)
    examples: inputs by name of the requests a class would send first (the load test's, the warm-up's)
    limits: what the inputs may hold, by input name (explorer/core/limits.py states each once)
    sample: (tokens, models) -> inputs by name of about that many tokens (python -m bench)
    floor: "module:function" of models.floors, the bare forward of the view's models that
        `python -m bench` compares the handler with
    """

    title: str
    api_name: str
    models: Mapping[str, str]
    inputs: tuple[str, ...]
    handler: Callable[..., dict]
    analyze: Callable[..., Any]
    figures: Callable[..., dict]
    build: Callable[..., FirstPaint]
    examples: tuple[dict, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)
    sample: Callable[[int, Mapping[str, Any]], dict] | None = None
    floor: str = ""
    bench_sizes: tuple[int, ...] = (20, 60)

    def api_args(self, values: Mapping[str, Any]) -> list:
        """Inputs by name -> the endpoint's positional arguments (gradio_client, curl)."""
        return [values[name] for name in self.inputs]
