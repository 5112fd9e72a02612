"""Each tab's model card: what the model was trained on, its licence and its measured scores,
read from the card files in assets/ when the app is built (never copied into code), shown in a
closed accordion at the bottom of the tab."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import gradio as gr

from models.runtime import MODELS

REPO = Path(__file__).resolve().parents[2]
# The card sections a tab shows: data, licence, measured scores (the rest is for whoever retrains).
SHOWN = re.compile(r"data|licen[cs]e|measured|accuracy|scores?", re.IGNORECASE)


def sections(markdown: str) -> tuple[str, list[tuple[str, str]]]:
    """(title line, [(heading, body)] of the '## ' sections) of a card."""
    title, found, heading, body = "", [], None, []
    for line in markdown.splitlines():
        if line.startswith("# ") and not title:
            title = line[2:].strip()
        elif line.startswith("## "):
            if heading is not None:
                found.append((heading, "\n".join(body).strip()))
            heading, body = line[3:].strip(), []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        found.append((heading, "\n".join(body).strip()))
    return title, found


@lru_cache(maxsize=16)
def card_summary(path: str) -> str:
    """The card's title and its data / licence / measured sections as markdown, with the file
    it came from; a missing card says so (a checkout without assets still builds)."""
    file = REPO / path
    if not file.is_file():
        return f"No model card at `{path}`."
    title, found = sections(file.read_text(encoding="utf-8"))
    kept = [f"#### {heading}\n\n{body}" for heading, body in found if SHOWN.search(heading)]
    return "\n\n".join([f"### {title}", *kept, f"<small>From `{path}` (the whole card is there).</small>"])


def cards_for(model_names: Iterable[str]) -> list[str]:
    """The card paths of a view's models (models.runtime.MODELS), each once, in order."""
    paths = []
    for name in model_names:
        card = MODELS[name].card if name in MODELS else ""
        if card and card not in paths:
            paths.append(card)
    return paths


def accordion(model_names: Iterable[str]) -> None:
    """The closed 'Model card' accordion of a tab (inside its gr.Tab); nothing for a view without cards."""
    paths = cards_for(model_names)
    if not paths:
        return
    with gr.Accordion("Model card: data, licence and measured scores", open=False, elem_classes="model-card"):
        gr.Markdown(
            "\n\n---\n\n".join(card_summary(p) for p in paths),
            latex_delimiters=[{"left": "$", "right": "$", "display": False}],
        )
