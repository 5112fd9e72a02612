"""The view contract: what one view of the app declares, so that app.py, bench/ and the tests
loop over one list (explorer.VIEWS) and a new view is one module plus one line there.

A view reads top to bottom in its own module (explorer/views/<view>.py):
    analyze(inputs..., models...) -> a plain, frozen result (numpy arrays and strings)
    figures(result, ...)          -> plotly specs, DataFrames, escaped markdown, by name
    handler(inputs..., models...) -> the main endpoint's outputs by name (analyze, then figures)
    build(view, runtime)          -> the tab's components and events (Gradio only here); its first paint
A view with sections is a package (explorer/views/<view>/): analysis.py holds the first three,
which its sections use too, and tab.py the build and the View.

A Section is a part of a tab that runs on request (its button) through its own endpoint: it
declares the same four steps, the tab inputs it reads by name and its own inputs; one generic
step (explorer/web/sections.py) gives it its button, teaching note, Export, endpoint, deep link
and warm-up, and `python -m bench` and the contract tests loop over View.sections.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from explorer.core.limits import check_number, check_whole, clean_text


@dataclass(frozen=True, kw_only=True)
class RunInfo:
    """How one request was computed: on which device, in how many seconds (the analysis only,
    not model loading), and how many queued requests shared the same forward."""

    device: str
    seconds: float
    batch: int = 1


@dataclass(frozen=True)
class Param:
    """One query parameter of a deep link (explorer/web/deep_links.py): the input it fills, by
    the name the tab gives that component (FirstPaint.components), and what it may hold.

    kind: "text" (checked like typed text; optional ones may be empty), "int" (a whole number in
        [low, high], as the slider shows it), "number" (any number in [low, high]), "bool"
        (1/0, true/false, yes/no, on/off) or "choice" (one of `choices`)
    high: a number, or a function giving it (a model's layers or heads, read when a link is read)
    reset: a slider the view resets to its start when it reruns (the decoding step): the browser
        applies the link's value once that rerun is over
    """

    name: str
    input: str
    what: str
    kind: str = "text"
    low: float = 0
    high: float | Callable[[], float] = 0
    optional: bool = False
    reset: bool = False
    choices: tuple[str, ...] = ()

    @property
    def top(self) -> float:
        return self.high() if callable(self.high) else self.high

    def check(self, raw: str):
        """The value for the component, or ValueError saying what is allowed."""
        if self.kind == "int":
            return check_whole(raw, self.low, self.top, self.what)
        if self.kind == "number":
            return check_number(raw, self.low, self.top, self.what)
        if self.kind == "bool":
            word = raw.strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.what} must be 1 or 0 (true or false), got {raw[:40]!r}.")
        if self.kind == "choice":
            if raw in self.choices:
                return raw
            raise ValueError(f"{self.what} must be one of {', '.join(self.choices)}, got {raw[:40]!r}.")
        if self.optional and not raw.strip():
            return ""
        return clean_text(raw, self.what)


def text_param(name: str, input: str, what: str, optional: bool = False) -> Param:
    return Param(name, input, what, optional=optional)


@dataclass(frozen=True)
class FirstPaint:
    """What a tab runs once the page has opened: fn(*inputs) -> outputs (Gradio components).

    linked: parts of the tab painted only when a deep link fills one of their inputs (the
        comparison with a second input, a section), each a FirstPaint of its own
        (explorer/web/deep_links.py), with `name` its section's api_name where it is one
    components: the tab's components by name (its inputs and what links and sections read);
        a section's: its own inputs
    holder: the gr.Tabs that holds a section as a sub-tab (a link that opens it selects it)
    """

    fn: Callable
    inputs: list
    outputs: list
    linked: tuple = ()
    components: Mapping[str, Any] = field(default_factory=dict)
    name: str = ""
    holder: Any = None


@dataclass(frozen=True, kw_only=True)
class Section:
    """A part of a tab with its own endpoint /<api_name>, computed when its button is pressed.

    reads: the tab's inputs it reads, by their names in the tab (FirstPaint.components)
    inputs: its own inputs, by the names build_inputs gives them; the endpoint's parameters are
        reads + inputs, in that order, and so are the handler's leading parameters
    models: the handler's keyword -> a model name of models.runtime.MODELS
    handler: reads + inputs + models -> outputs by name (analyze, then figures); a "result"
        output is the plain result that Export writes
    build_inputs: () -> its own input components by name (a row beside its button)
    build_outputs: () -> its output components by name (Gradio only here and in build_inputs)
    rerun_on: own inputs whose change by the user (a slider's release) recomputes the section
    cached: False for a measurement, which must run each time (no shared answer, no warm-up)
    concurrency: requests its endpoint runs at once (Gradio's concurrency_limit; "default": the
        app's one per listener); a section whose handler queues its own costly work lets more
        in, so that a request it can answer at once never waits behind that work
    progress: the handler takes a `progress` keyword (a gr.Progress in the app, None in a
        deep link's paint or a test) and reports through it while it works (a training)
    export: (result) -> paths of the files Export offers (endpoint /<api_name>_export)
    note: the teaching note explorer/notes/<note>.md shown above its outputs
    examples, limits, floor, sample: as a View's (examples hold reads + inputs by name)
    links: deep-link parameters of its own inputs; a link may also name the section
        (section=<api_name>) to open it computed
    wire: (its own inputs, its outputs, by name) -> None: events between them that are not its
        endpoint (a click on an output cell that sets its inputs), wired once both exist
    """

    title: str
    api_name: str
    models: Mapping[str, str]
    reads: tuple[str, ...]
    inputs: tuple[str, ...] = ()
    handler: Callable[..., dict]
    analyze: Callable[..., Any]
    figures: Callable[..., dict]
    build_outputs: Callable[[], Mapping[str, Any]]
    build_inputs: Callable[[], Mapping[str, Any]] = dict
    button: str
    intro: str = ""
    note: str = ""
    rerun_on: tuple[str, ...] = ()
    cached: bool = True
    concurrency: int | str = "default"
    progress: bool = False
    export: Callable[[Any], list[str]] | None = None
    export_label: str = "Export"
    examples: tuple[dict, ...] = ()
    limits: Mapping[str, int] = field(default_factory=dict)
    floor: str = ""
    sample: Callable[[int, Mapping[str, Any]], dict] | None = None
    links: tuple[Param, ...] = ()
    wire: Callable[[Mapping[str, Any], Mapping[str, Any]], None] | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The endpoint's parameters, in API order."""
        return self.reads + self.inputs

    def api_args(self, values: Mapping[str, Any]) -> list:
        return [values[name] for name in self.parameters]


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
    links: its deep-link parameters (the inputs a link fills)
    sections: its parts with endpoints of their own, which build places (explorer/web/sections.py)
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
    links: tuple[Param, ...] = ()
    sections: tuple[Section, ...] = ()

    def api_args(self, values: Mapping[str, Any]) -> list:
        """Inputs by name -> the endpoint's positional arguments (gradio_client, curl)."""
        return [values[name] for name in self.inputs]
