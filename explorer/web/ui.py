"""Small pieces every tab's wiring shares: the request boundary (models from the runtime, a
CUDA out-of-memory retried on CPU, input errors turned into clear messages, outputs by
component), batched and live versions of a view, teaching notes."""

from __future__ import annotations

import contextlib
import functools
import html
import inspect
import logging
import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import gradio as gr

from explorer.core.limits import check_whole

from .gradio_internals import check_before_preprocess, plot_value
from .serving import LIVE, MAX_BATCH, batching_enabled

NOTES = Path(__file__).resolve().parents[1] / "notes"
log = logging.getLogger("explorer")


def value(output):
    """What Gradio sends for one output of a handler: a plotly spec (explorer/core/figures.py) as
    the value gr.Plot takes (gradio_internals.plot_value); anything else as it is."""
    if isinstance(output, dict) and "data" in output and "layout" in output:
        return plot_value(output)
    return output


def message(err: Exception) -> str:
    """The user's message for an exception of a request: a ValueError (bad input) or a missing
    file says what is wrong (escaped: Gradio renders it as HTML, and it may quote the input);
    anything else is a bug, logged with its traceback, and the user hears only its kind."""
    if isinstance(err, (ValueError, FileNotFoundError)):
        return html.escape(str(err), quote=False)
    log.error("analysis failed", exc_info=err)
    return f"The analysis failed ({type(err).__name__}). Other tabs still work; try a shorter or simpler input."


# While the app loads its models (app.py starts that before the page answers), a request that
# needs them waits, and says so: in the overlay of its outputs (gr.Progress) while it waits, then
# in its answer's status line. The one place of these words.
LOADING = "Loading the models ({n} of {total})…"
READY = "The models are loaded: the app is ready."
_reporting = threading.local()  # the gr.Progress of the request this thread answers (a first paint's)


@contextlib.contextmanager
def reporting(progress) -> Iterator[None]:
    """Inside this block, a wait for the models in this thread shows on `progress` (a gr.Progress):
    a page's first paint, whose views' functions are called with their inputs only."""
    before = getattr(_reporting, "progress", None)
    _reporting.progress = progress
    try:
        yield
    finally:
        _reporting.progress = before


def wait_for_models(runtime, progress=None) -> float:
    """While the runtime loads the app's models in the background, wait until all are loaded,
    showing LOADING on `progress` (or the one `reporting` set); seconds waited (0.0: none).

    All of them, not only the request's own: until the load is over, no request runs model code
    beside the thread that imports torch, transformers and the model modules (two threads importing
    at once raised ImportError under load), and the request's own are most of the load anyway
    (MiniLM's, which five tabs read, comes first)."""
    if runtime.loading() is None:
        return 0.0
    start = time.perf_counter()
    progress = progress if progress is not None else getattr(_reporting, "progress", None)
    while (state := runtime.loading()) is not None:
        if progress is not None:
            n, total = state
            progress(state, desc=LOADING.format(n=n, total=total), unit="models")
        runtime.wait_loaded(0.25)
    return time.perf_counter() - start


def endpoint(runtime, needs, fn, outputs: dict | None, cache: bool = True, progress: bool = False):
    """A Gradio function for `fn(*inputs, **models) -> {output name: value}` (outputs None: fn's
    value as it is, for gr.api).

    The models named in `needs` (keyword -> runtime model name) come from the runtime, which
    reruns the call on CPU copies after a CUDA out-of-memory (the user sees a notice). Bad
    input becomes a gr.Error the user reads in a modal; the server keeps serving either way.
    Outputs are returned by component, so a handler never depends on their order.
    progress: fn takes a `progress` keyword; Gradio passes the event's gr.Progress (a parameter
    with that default, after the inputs), and a direct call (a deep link's paint) passes none.
    An endpoint with models gets the event's gr.Progress too (for the wait for the models at
    start-up: wait_for_models), and a person's request counts as live (serving.LIVE), unless it
    reports progress.
    """
    names = inputs_of(fn, needs)
    # The request's gr.Progress, per thread: run sets it and the sendable it calls (same thread)
    # reads it; it is not an argument, so it is no part of the cache key.
    tracker = threading.local()
    reports = names is not None and (progress or bool(needs))  # run takes the event's gr.Progress

    def sendable(*inputs, **models):
        # The answer as Gradio sends it (plot specs already JSON), so a cached answer costs a
        # later request no serialization.
        answer = fn(*inputs, **models, **({"progress": getattr(tracker, "progress", None)} if progress else {}))
        return answer if outputs is None else {name: value(v) for name, v in answer.items()}

    sendable.__module__, sendable.__qualname__ = fn.__module__, fn.__qualname__  # the cache key names fn

    def run(*inputs):
        given = None
        if reports and len(inputs) > len(names):
            *inputs, given = inputs
        tracker.progress = given if progress else None
        # A long request (one that reports its progress: a training, seconds) is not one the
        # warm-up steps aside for: it would hold the warm-up for its whole length.
        with contextlib.nullcontext() if progress else LIVE.answering():
            waited = wait_for_models(runtime, given) if needs else 0.0
            try:
                # An identical earlier request gets its answer from the shared cache (cache=False: a
                # measurement, which must run each time).
                answer, notice = (runtime.answer if cache else runtime.call)(needs, sendable, *inputs)
            except gr.Error:
                raise
            except Exception as err:  # noqa: BLE001 - the boundary between the app and a user request
                raise gr.Error(message(err), print_exception=False) from None
        if notice:
            gr.Warning(notice)
        if outputs is None:
            return answer
        # A handler may return more than this event shows (a figures dict has every figure of
        # the view); only the names this event has a component for are sent.
        shown = {outputs[name]: v for name, v in answer.items() if name in outputs}
        # A person's event that waited says so (this answer only: the cached one is untouched); a
        # direct call (a page's first paint, the warm-up) does not: its answer may be stored for others.
        if waited and given is not None and isinstance(answer.get("status"), str) and "status" in outputs:
            shown[outputs["status"]] = f"{READY} {answer['status']}"
        return shown

    # Named after fn, with fn's inputs (its parameters less the model keywords) as its signature.
    run.__name__, run.__qualname__, run.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
    if reports:  # Gradio hands a gr.Progress to the parameter whose default is one
        return with_inputs(
            run, [*names, inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=gr.Progress())]
        )
    return with_inputs(run, names)


POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def inputs_of(fn, needs=()) -> list[inspect.Parameter] | None:
    """The parameters of fn that an event's inputs fill: its leading positional ones, less the
    model keywords in `needs`; None when fn takes `*inputs` (it names none)."""
    parameters = inspect.signature(fn).parameters.values()
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return None
    return [p for p in parameters if p.kind in POSITIONAL and p.name not in needs]


def with_inputs(run, names):
    """run (a `run(*inputs)` wrapper), showing `names` (strings or inspect.Parameters; None:
    leave it as it is) as its signature. Gradio reads the signature (inspect.signature honours
    `__signature__`) to count an event's inputs and to name the API's parameters: without it an
    endpoint's parameters are `param_0`, `param_1`, ... instead of `text`, `k`."""
    if names is not None:
        run.__signature__ = inspect.Signature([as_input(name) for name in names])
    return run


def as_input(name) -> inspect.Parameter:
    """An input parameter of a `run(*inputs)`: positional, and without fn's annotation (Gradio
    reads none from run itself)."""
    if not isinstance(name, inspect.Parameter):
        return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return name.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=inspect.Parameter.empty)


def strict_inputs(blocks: gr.Blocks) -> None:
    """Every slider, number, checkbox, radio and dropdown that a named endpoint reads checks the raw value
    it gets before Gradio's own preprocess: a wrong type ('seven' or None where a number goes, 2.5
    where a whole number goes, 'yes' where true/false goes) or a value out of range answers one
    line naming the API parameter and what it accepts, as a gr.Error without a traceback in the
    log. Gradio's own preprocess compares 'seven' < 1 and fails with a TypeError, which the user
    hears as "the upstream Gradio app has raised an exception" (and the log gets a traceback).
    The name is the input's parameter name in the first named endpoint that reads it. Called once,
    after every event is wired."""
    check_before_preprocess(blocks, CHECKED, checked_payload)


def checked_payload(component, payload):
    """check_value's answer, or its ValueError as the gr.Error the user reads (no traceback)."""
    try:
        return check_value(component, payload)
    except ValueError as err:
        raise gr.Error(message(err), print_exception=False) from None


def check_value(component, payload):
    """The raw value an endpoint got for `component`, checked; ValueError names the input."""
    name = component.checked_as
    if isinstance(component, gr.Checkbox):
        if payload is None or isinstance(payload, bool):
            return bool(payload)
        raise ValueError(f"{name} must be true or false, got {str(payload)[:40]!r}.")
    if isinstance(component, gr.Dropdown) and component.allow_custom_value:
        return payload  # any text: the handler checks it
    if isinstance(component, (gr.Radio, gr.Dropdown)):
        if payload is None or payload in component.choices or payload in [v for _, v in component.choices]:
            return payload
        accepted = ", ".join(repr(v) for _, v in component.choices)
        raise ValueError(f"{name} must be one of {accepted}, got {str(payload)[:40]!r}.")
    low, high = component.minimum, component.maximum
    whole = component.precision == 0 if isinstance(component, gr.Number) else float(component.step).is_integer()
    if isinstance(payload, bool):  # True is an int to Python, not a number to a user
        payload = str(payload)
    if whole and low is not None and high is not None:
        return check_whole(payload, int(low), int(high), name)
    number = payload if isinstance(payload, (int, float)) and math.isfinite(payload) else None
    if number is None or (low is not None and number < low) or (high is not None and number > high):
        span = f" from {low} to {high}" if low is not None and high is not None else ""
        raise ValueError(f"{name} must be a number{span}, got {str(payload)[:40]!r}.")
    return number


CHECKED = (gr.Slider, gr.Number, gr.Checkbox, gr.Radio, gr.Dropdown)
CLEARED = (gr.Plot, gr.HighlightedText, gr.Dataframe, gr.HTML, gr.File, gr.State)


def live(fn, status, outputs: list):
    """The as-you-type version of a view: an input problem becomes a line in `status`, and
    every output computed from an earlier input is cleared (never a figure under a text it was
    not computed from). No toast: the line sits next to the box being typed in, and a toast
    per keystroke piles up (or shows on another tab during the first paint).

    Why not raise: when a running event raises, Gradio drops the newest input queued behind
    it (trigger_mode="always_last"), so after a user clears the box and types again the view
    would stay stale; and answering every output also clears the red error badges that an
    earlier failed Enter left on them. The strict version (errors raised) is the API endpoint.
    """
    cleared = [o for o in outputs if isinstance(o, CLEARED) or (isinstance(o, gr.Textbox) and not o.interactive)]

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except gr.Error as err:
            return {status: f"⚠️ {err.message}", **{o: None for o in cleared if o is not status}}

    return wrapper


def batched(runtime, needs, analyze_many, render, outputs: dict, status: str, same_as=None, complete=None):
    """The batch version of a view, for Gradio's dynamic batching (`batch=True`).

    Gradio hands over one list per input, one entry per queued request. `analyze_many(requests,
    **models)` gets the requests as tuples and runs the model once for all of them, returning
    per request a result or the ValueError that input raised; `render(result, *inputs)` gives
    that request's outputs by name. A bad input answers with its message in the `status`
    output (and empty figures) instead of raising, because raising would fail every request
    in the batch. Returns one list per output, in the order of `outputs`.
    same_as: the view's single-request handler whose answers these equal (by output name): its
    cache key is used, so a batched request finds what a first paint or the warm-up computed.
    complete: answer -> answer with the updates that are built per request and never cached
    (a slider's range read from the result).
    """
    names = list(outputs)

    def failed(text: str) -> dict:
        return {status: f"⚠️ {html.escape(text, quote=False)}"}

    def run_batch(*columns):
        with LIVE.answering():
            wait_for_models(runtime)  # no overlay: Gradio gives a batched event no gr.Progress
            requests = list(zip(*columns))
            keys = [runtime.key(needs, same_as or render, *request) for request in requests]
            # The cache holds (answer, notice) pairs, as Runtime.answer stores them for `same_as`;
            # an answer being computed elsewhere (the warm-up's example) is waited for, not recomputed.
            known = [runtime.cache.lookup(key, wait=True) if key is not None else (False, None) for key in keys]
            known = [(found, stored[0] if found else None) for found, stored in known]
            new = [key for key, (found, _) in zip(keys, known) if not found and key is not None]
            with runtime.cache.computing(new):  # meanwhile, the same question elsewhere waits for this batch
                answers = answer_batch(requests, keys, known)
        if complete is not None:
            answers = [answer if status_only(answer) else complete(answer) for answer in answers]
        return [[answer.get(name) for answer in answers] for name in names]

    def answer_batch(requests: list, keys: list, known: list) -> list[dict]:
        todo = [request for request, (found, _) in zip(requests, known) if not found]  # only these reach the model
        try:
            computed = iter(runtime.call(needs, analyze_many, todo)[0] if todo else [])
        except Exception:  # noqa: BLE001 - a bug in the shared forward: every request hears of it
            log.exception("batched analysis failed")
            computed = iter([RuntimeError("the model call failed")] * len(todo))
        answers = []
        for request, key, (found, answer) in zip(requests, keys, known):
            if found:
                answers.append(answer)
                continue
            result = next(computed)
            try:
                if isinstance(result, Exception):
                    raise result
                answers.append({name: value(v) for name, v in render(result, *request).items()})  # as sent
                if key is not None:
                    runtime.cache.put(key, (answers[-1], ""))
            except ValueError as err:
                answers.append(failed(str(err)))
            except Exception as err:  # noqa: BLE001 - one request's bug must not fail the others
                log.exception("rendering one request of a batch failed")
                answers.append(failed(f"The analysis failed ({type(err).__name__}). Try a shorter or simpler input."))
        return answers

    def status_only(answer: dict) -> bool:
        return list(answer) == [status]

    # The API's parameters, by name: the single-request handler's inputs (less its models), or
    # render's after the result.
    if same_as is not None:
        return with_inputs(run_batch, inputs_of(same_as, needs))
    rendered = inputs_of(render)
    return with_inputs(run_batch, rendered and rendered[1:])


def batched_event() -> dict:
    """The event settings of a batched endpoint. preprocess=False: Gradio checks a slider's range
    while preprocessing, and in a batch one request's out-of-range value (k=99 sent to the API)
    failed every request queued with it (measured: 5 of 8). The view's own checks read the raw
    values instead, one request at a time (explorer/core/limits.py), and answer each in its status."""
    return {"batch": True, "max_batch_size": MAX_BATCH, "preprocess": False}


def listen(text, run, inputs: list, outputs: list, status, api_name: str, run_batch=None) -> None:
    """Wire a view: live updates while typing, and an API endpoint `/<api_name>` on Enter.

    The endpoint raises gr.Error on bad input, or, with `run_batch` (see `batched`) and
    batching on, serves queued requests together and answers bad input in the status output.
    """
    # "always_last": while one analysis runs, keystrokes collapse into one rerun with the latest text.
    text.change(
        live(run, status, outputs), inputs, outputs, api_name=False, trigger_mode="always_last", show_progress="minimal"
    )
    if run_batch is not None and batching_enabled():
        text.submit(run_batch, inputs, outputs, api_name=api_name, **batched_event())
    else:
        text.submit(run, inputs, outputs, api_name=api_name)


def teaching_note(name: str) -> None:
    """The markdown note explorer/notes/<name>.md, in a closed-by-default accordion."""
    with gr.Accordion("Teaching note: what you see and why", open=False):
        gr.Markdown(
            (NOTES / f"{name}.md").read_text(encoding="utf-8"),
            latex_delimiters=[
                {"left": "$$", "right": "$$", "display": True},
                {"left": "$", "right": "$", "display": False},
            ],
        )
