"""Two inputs side by side, the part both comparisons share (self_attention/compare.py: the same
head for input A and input B; nli/compare.py: the same alignment β for pair A and pair B): the
difference figure over the tokens that line up (explorer/core/text_alignment.py) and the closed
accordion that shows A, B and A − B. The title of the difference says how many tokens lined up.
"""

from __future__ import annotations

import gradio as gr
import numpy as np

from explorer.core import figures as fg
from explorer.core.limits import input_label
from explorer.web.ui import endpoint, live


def difference_figure(D: np.ndarray, row_labels, col_labels, *, title: str, x_title: str, y_title: str) -> dict:
    bound = float(np.abs(D).max()) or 1e-9  # symmetric: 0 is white
    return fg.heatmap(
        D,
        row_labels,
        col_labels,
        title=title,
        x_title=x_title,
        y_title=y_title,
        colorscale=fg.BLUE_ORANGE,
        zmin=-bound,
        zmax=bound,
        cell_format=".2f" if D.size <= 400 else None,
        hover="A − B = %{z:.3f}",
        cell_px=24,
    )


def largest_change(D: np.ndarray, rows: list[str], cols: list[str]) -> str:
    u, v = np.unravel_index(int(np.abs(D).argmax()), D.shape)
    return f"{fg.markdown_text(rows[u])} → {fg.markdown_text(cols[v])} ({D[u, v]:+.2f})"


def titled(spec: dict, prefix: str) -> dict:
    spec["layout"]["title"]["text"] = f"{prefix}: {spec['layout']['title']['text']}"
    return spec


def comparison_accordion(
    runtime, title: str, intro: str, prefix: str, boxes: list[tuple[str, str, dict]], needs: dict, compare
) -> tuple:
    """The closed accordion both tabs share: an intro line, input B's boxes (elem_id suffix, label,
    input_label arguments), Compare, a status line, A and B side by side and their difference.
    Returns (the accordion, the boxes, the button, the outputs by name, paint(*values): the live
    comparison that also opens the accordion)."""
    with gr.Accordion(title, open=False) as section:
        gr.Markdown(intro)
        with gr.Row():
            made = [
                gr.Textbox(lines=1, elem_id=f"{prefix}-{suffix}", **input_label(label, **limits))
                for suffix, label, limits in boxes
            ]
        go = gr.Button("Compare", size="sm", elem_id=f"{prefix}-go")
        status = gr.Markdown(elem_id=f"{prefix}-status")
        with gr.Row():
            plot_a = gr.Plot(show_label=False, elem_id=f"{prefix}-a")
            plot_b = gr.Plot(show_label=False, elem_id=f"{prefix}-b")
        plot_diff = gr.Plot(show_label=False, elem_id=f"{prefix}-diff")
    outputs = {"compare_status": status, "compare_a": plot_a, "compare_b": plot_b, "compare_diff": plot_diff}
    run = live(endpoint(runtime, needs, compare, outputs), status, list(outputs.values()))

    def paint(*values):
        return {**run(*values), section: gr.Accordion(open=True)}

    return section, made, go, outputs, run, paint
