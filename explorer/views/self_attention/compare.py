"""The 'Compare with a second input' section of the Self-attention tab: the same head for input A
(the tab's sentence, and sentence B if any) and input B, and their difference where the tokens
line up (explorer/views/comparison.py).

compare_heads(inputs..., encoder) -> outputs by name; attention_section hooks it into the tab
(tab.build), and a deep link with text2 / text2_b paints it.
"""

from __future__ import annotations

import gradio as gr

from explorer.contract import FirstPaint
from explorer.core import figures as fg
from explorer.core.limits import MAX_ATTENTION_TOKENS
from explorer.core.plural import plural
from explorer.core.text_alignment import difference, line_up
from explorer.views.comparison import comparison_accordion, difference_figure, largest_change, titled

from . import analysis as sa


def compare_heads(text, text_b, merge, layer, head, text2, text2_b, *, encoder) -> dict:
    """Input A (the tab's sentence, and sentence B if any) and input B (text2, text2_b) through the
    bundled encoder; the head the sliders show, for both, and A − B where the tokens line up."""
    if not (text2 or "").strip():
        raise ValueError("Type a second input to compare with (input B).")
    a = sa.analyze(text, text_b, encoder, merge_words=bool(merge))
    b = sa.analyze(text2, text2_b, encoder, merge_words=bool(merge))
    layer, head = min(max(int(layer or 1), 1), a.layers), min(max(int(head or 1), 1), a.heads)
    l, h = layer - 1, head - 1
    pairs = line_up(a.tokens, b.tokens)
    labels = [f"{i}: {a.tokens[i]}" for i, _ in pairs]
    D = difference(a.attentions[l, h], b.attentions[l, h], pairs, pairs)
    unit = "word" if a.merged else "word piece"
    status = (
        f"Layer {layer}, head {head}. A: {plural(len(a.tokens), unit)}, B: {plural(len(b.tokens), unit)}; "
        f"{len(pairs)} line up (the same token in the same order). Largest change A − B: "
        f"{largest_change(D, labels, labels) if pairs else 'none'}."
    )
    return {
        "compare_status": status,
        "compare_a": titled(sa.zoom_figure(a, layer, head), "A"),
        "compare_b": titled(sa.zoom_figure(b, layer, head), "B"),
        "compare_diff": difference_figure(
            D,
            labels,
            labels,
            title=f"A − B where the tokens line up ({len(pairs)} of {len(a.tokens)}); blue: A attends more, orange: B",
            x_title="key token",
            y_title="query token (A's numbering)",
        )
        if pairs
        else fg.message("No token of A lines up with one of B."),
    }


def attention_section(runtime, *, text, text_b, merge, layer, head) -> FirstPaint:
    """The 'Compare with a second input' accordion of the Self-attention tab (inside its build)."""
    section, (text2, text2_b), go, outputs, run, paint = comparison_accordion(
        runtime,
        "Compare with a second input (same layer and head)",
        "Input A is the sentence above (with its sentence B, if any); type input B here. Both go through "
        "the bundled all-MiniLM-L6-v2, and the sliders above choose the head for both.",
        "attn-compare",
        [("text", "Input B", {"pieces": MAX_ATTENTION_TOKENS}), ("text-b", "Input B's sentence B", {"optional": True})],
        {"encoder": "encoder"},
        compare_heads,
    )

    def follow(*values):  # a slider moved: redraw only a comparison that is in use
        return run(*values) if (values[5] or "").strip() else {}

    inputs = [text, text_b, merge, layer, head, text2, text2_b]
    shown = [*outputs.values(), section]
    gr.on([go.click, text2.submit, text2_b.submit], paint, inputs, shown, api_name=False, show_progress="minimal")
    for slider in (layer, head):
        slider.release(follow, inputs, list(outputs.values()), api_name=False, show_progress="hidden")
    return FirstPaint(paint, inputs, shown, components={"text2": text2, "text2_b": text2_b})
