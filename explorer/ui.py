"""Small pieces every tab's wiring shares: turning input errors into gr.Error, notes."""
from __future__ import annotations

import functools
import logging
from pathlib import Path

import gradio as gr

NOTES = Path(__file__).resolve().parent / "notes"
log = logging.getLogger("explorer")


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
        except ValueError as err:
            raise gr.Error(str(err), print_exception=False) from None
        except Exception as err:  # noqa: BLE001 - the boundary between the app and a user request
            log.exception("analysis failed")
            raise gr.Error(f"The analysis failed ({type(err).__name__}). Other tabs still work; try a shorter or simpler input.",
                           print_exception=False) from None

    return wrapper


def teaching_note(name: str) -> None:
    """The markdown note explorer/notes/<name>.md, in a closed-by-default accordion."""
    with gr.Accordion("Teaching note: what you see and why", open=False):
        gr.Markdown((NOTES / f"{name}.md").read_text(encoding="utf-8"), latex_delimiters=[{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}])


def coming_soon(what: str, issue: str) -> None:
    gr.Markdown(f"**Not built yet.** {what} arrives with {issue}.")
