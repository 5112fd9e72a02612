"""Small pieces every tab's wiring shares: the request boundary (models imported once, a CUDA
out-of-memory retried on CPU, input errors turned into clear messages), batched and live
versions of a view, plots, teaching notes."""
from __future__ import annotations

import functools
import html
import logging
from pathlib import Path

import gradio as gr

NOTES = Path(__file__).resolve().parent / "notes"
log = logging.getLogger("explorer")


CPU_RETRY_NOTICE = "The GPU ran out of memory for this request, so it was computed on the CPU instead (slower, same model)."


def cpu_retry(fn):
    """Run a request; if CUDA runs out of memory, run it again with CPU copies of the models.

    Only this request moves (models.registry.cpu_only is per thread); the GPU copies keep
    serving everyone else. The user sees a notice, and the status line names the device.
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .serving import import_models_once

        import_models_once()  # before any lazy import inside the view: see its docstring
        import torch

        from models import registry

        try:
            return fn(*args, **kwargs)
        except torch.cuda.OutOfMemoryError:
            log.warning("CUDA out of memory; retrying the request on the CPU")
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            with registry.cpu_only():
                result = fn(*args, **kwargs)
            gr.Warning(CPU_RETRY_NOTICE)
            return result

    return wrapper


def plot(spec: dict | None):
    """A figure spec (explorer/figures.py) as the value gr.Plot sends, without building a go.Figure."""
    from gradio.components.plot import PlotData

    from .figures import plotly_json

    return None if spec is None else PlotData(type="plotly", plot=plotly_json(spec))


def user_errors(fn):
    """Run a view; a ValueError (bad input) becomes a gr.Error the user reads in a modal.

    Anything else is a bug: log it with its traceback for the server, and tell the user
    the analysis failed without showing internals. The server keeps serving either way.
    """

    retrying = cpu_retry(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return retrying(*args, **kwargs)
        except gr.Error:
            raise
        except (ValueError, FileNotFoundError) as err:  # bad input, or a missing weight file (named, with the fix)
            # Gradio renders these messages as HTML, and they may quote what the user typed.
            raise gr.Error(html.escape(str(err), quote=False), print_exception=False) from None
        except Exception as err:  # noqa: BLE001 - the boundary between the app and a user request
            log.exception("analysis failed")
            raise gr.Error(f"The analysis failed ({type(err).__name__}). Other tabs still work; try a shorter or simpler input.",
                           print_exception=False) from None

    return wrapper


def live(fn, outputs: list, status):
    """The as-you-type version of a view: an input problem becomes a warning toast and a line
    in `status` (the other outputs stay as they were), instead of an error.

    Why: when a running event raises, Gradio drops the newest input queued behind it
    (trigger_mode="always_last"), so after a user clears the box and types again the view
    would stay stale. The strict version (errors raised) is the API endpoint.
    """
    where = outputs.index(status)

    @functools.wraps(fn)
    def wrapper(*args):
        try:
            return fn(*args)
        except gr.Error as err:
            gr.Warning(err.message)
            values = [gr.skip()] * len(outputs)
            values[where] = f"⚠️ {err.message}"
            return values

    return wrapper


def batched(analyze_many, render, outputs: list, status):
    """The batch version of a view, for Gradio's dynamic batching (`batch=True`).

    Gradio hands over one list per input, one entry per queued request. `analyze_many`
    gets the requests as tuples and runs the model once for all of them, returning per
    request a result or the ValueError that input raised; `render(result, *inputs)` gives
    that request's outputs. A bad input answers with its message in the status output (and
    empty figures) instead of raising, because raising would fail every request in the batch.
    """
    where = outputs.index(status)

    def failed(message: str) -> list:
        values = [None] * len(outputs)
        values[where] = f"⚠️ {html.escape(message, quote=False)}"
        return values

    def run_batch(*columns):
        requests = list(zip(*columns))
        try:
            results = cpu_retry(analyze_many)(requests)
        except Exception:  # noqa: BLE001 - a bug in the shared forward: every request hears of it
            log.exception("batched analysis failed")
            results = [RuntimeError("the model call failed")] * len(requests)
        answers = []
        for request, result in zip(requests, results):
            try:
                if isinstance(result, Exception):
                    raise result
                answers.append(list(render(result, *request)))
            except ValueError as err:
                answers.append(failed(str(err)))
            except Exception as err:  # noqa: BLE001 - one request's bug must not fail the others
                log.exception("rendering one request of a batch failed")
                answers.append(failed(f"The analysis failed ({type(err).__name__}). Try a shorter or simpler input."))
        return [list(column) for column in zip(*answers)]

    return run_batch


def listen(text, run, inputs: list, outputs: list, status, api_name: str, run_batch=None) -> None:
    """Wire a view: live updates while typing, and an API endpoint `/<api_name>` on Enter.

    The endpoint raises gr.Error on bad input, or, with `run_batch` (see `batched`) and
    batching on, serves queued requests together and answers bad input in the status output.
    """
    from .serving import MAX_BATCH, batching_enabled

    # "always_last": while one analysis runs, keystrokes collapse into one rerun with the latest text.
    text.change(live(run, outputs, status), inputs, outputs, api_name=False, trigger_mode="always_last",
                show_progress="minimal")
    if run_batch is not None and batching_enabled():
        text.submit(run_batch, inputs, outputs, api_name=api_name, batch=True, max_batch_size=MAX_BATCH)
    else:
        text.submit(run, inputs, outputs, api_name=api_name)


def teaching_note(name: str) -> None:
    """The markdown note explorer/notes/<name>.md, in a closed-by-default accordion."""
    with gr.Accordion("Teaching note: what you see and why", open=False):
        gr.Markdown((NOTES / f"{name}.md").read_text(encoding="utf-8"), latex_delimiters=[{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}])
