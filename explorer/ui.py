"""Small pieces every tab's wiring shares: turning input errors into gr.Error, notes."""
from __future__ import annotations

import functools
import html
import logging
from pathlib import Path

import gradio as gr

NOTES = Path(__file__).resolve().parent / "notes"
log = logging.getLogger("explorer")


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

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
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


def listen(text, run, inputs: list, outputs: list, status, api_name: str) -> None:
    """Wire a view: live updates while typing, and a strict API endpoint `/<api_name>`."""
    # "always_last": while one analysis runs, keystrokes collapse into one rerun with the latest text.
    text.change(live(run, outputs, status), inputs, outputs, api_name=False, trigger_mode="always_last",
                show_progress="minimal")
    text.submit(run, inputs, outputs, api_name=api_name)


def teaching_note(name: str) -> None:
    """The markdown note explorer/notes/<name>.md, in a closed-by-default accordion."""
    with gr.Accordion("Teaching note: what you see and why", open=False):
        gr.Markdown((NOTES / f"{name}.md").read_text(encoding="utf-8"), latex_delimiters=[{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}])
