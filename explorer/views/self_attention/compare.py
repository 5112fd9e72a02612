"""Two inputs side by side: the same head (Self-attention) or the same alignment β (NLI) for input A
and input B, and their difference where the tokens line up.

Tokens line up when they are the same token in the same order: difflib's matching blocks over
the two token lists (so "…too tired ." and "…too wide ." line up everywhere but one word, and an
inserted word shifts nothing after it). The difference is taken over those pairs only; a token
of one input with no partner in the other has no row or column there, and the title says how
many lined up.

compare_heads / compare_pairs(inputs..., model) -> outputs by name; the sections are hooked into
their tabs by self_attention.build and nli.build, and painted by a deep link with text2 / text2_b.
"""

from __future__ import annotations

import difflib

import numpy as np

from . import figures as fg
from . import nli as nli_view
from . import self_attention as sa
from .view import FirstPaint, plural


def line_up(a: list[str], b: list[str]) -> list[tuple[int, int]]:
    """Index pairs (i, j) with a[i] == b[j], in order, from difflib's longest matching blocks."""
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    return [(blk.a + k, blk.b + k) for blk in matcher.get_matching_blocks() for k in range(blk.size)]


def difference(A: np.ndarray, B: np.ndarray, rows: list[tuple[int, int]], cols: list[tuple[int, int]]) -> np.ndarray:
    """D[u, v] = A[rows[u][0], cols[v][0]] - B[rows[u][1], cols[v][1]]: float[len(rows), len(cols)]."""
    ra, rb = [i for i, _ in rows], [j for _, j in rows]
    ca, cb = [i for i, _ in cols], [j for _, j in cols]
    return A[np.ix_(ra, ca)] - B[np.ix_(rb, cb)]


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


# -- Self-attention: the same head for two inputs ----------------------------------------------
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


def comparison_accordion(
    runtime, title: str, intro: str, prefix: str, boxes: list[tuple[str, str, dict]], needs: dict, compare
) -> tuple:
    """The closed accordion both tabs share: an intro line, input B's boxes (elem_id suffix, label,
    input_label arguments), Compare, a status line, A and B side by side and their difference.
    Returns (the accordion, the boxes, the button, the outputs by name, paint(*values): the live
    comparison that also opens the accordion)."""
    import gradio as gr

    from .limits import input_label
    from .ui import endpoint, live

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


def attention_section(runtime, *, text, text_b, merge, layer, head) -> FirstPaint:
    """The 'Compare with a second input' accordion of the Self-attention tab (inside its build)."""
    import gradio as gr

    from .limits import MAX_ATTENTION_TOKENS

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
    return FirstPaint(paint, inputs, shown)


# -- NLI: the same alignment for two pairs --------------------------------------------------------
def compare_pairs(premise, hypothesis, premise2, hypothesis2, *, nli) -> dict:
    """Pair A (the tab's premise and hypothesis) and pair B; β for both, and β_A − β_B where the
    premise words and the hypothesis words line up."""
    if not (premise2 or "").strip() or not (hypothesis2 or "").strip():
        raise ValueError("Type a second premise and hypothesis to compare with (pair B).")
    a = nli_view.analyze(premise, hypothesis, nli).inferred
    b = nli_view.analyze(premise2, hypothesis2, nli).inferred
    rows, cols = line_up(a.premise_tokens, b.premise_tokens), line_up(a.hypothesis_tokens, b.hypothesis_tokens)
    row_labels = [f"{i}: {a.premise_tokens[i]}" for i, _ in rows]
    col_labels = [f"{j}: {a.hypothesis_tokens[j]}" for j, _ in cols]
    D = difference(a.premise_to_hypothesis, b.premise_to_hypothesis, rows, cols)

    def said(r) -> str:
        return f"**{fg.label(r.label)}** ({r.probs[r.label]:.2f})"

    status = (
        f"A: {said(a)} · B: {said(b)}. Lined up (the same word in the same order): {len(rows)} of "
        f"{len(a.premise_tokens)} premise words, {len(cols)} of {len(a.hypothesis_tokens)} hypothesis words "
        f"(∅ included). Largest change in β: {largest_change(D, row_labels, col_labels) if D.size else 'none'}."
    )
    beta = {}
    for name, r in (("A", a), ("B", b)):
        beta[name] = nli_view.weights_figure(
            r.premise_to_hypothesis,
            r.premise_tokens,
            r.hypothesis_tokens,
            title=f"{name}: β, premise → hypothesis",
            row_axis="premise word i",
            column_axis="hypothesis word j",
            over="j",
            colorscale="Blues",
        )
    return {
        "compare_status": status,
        "compare_a": beta["A"],
        "compare_b": beta["B"],
        "compare_diff": difference_figure(
            D,
            row_labels,
            col_labels,
            title="β<sub>A</sub> − β<sub>B</sub> where the words line up; blue: A aligns more, orange: B",
            x_title="hypothesis word j (A's numbering)",
            y_title="premise word i (A's numbering)",
        )
        if D.size
        else fg.message("No word of A lines up with one of B."),
    }


def nli_section(runtime, *, premise, hypothesis) -> FirstPaint:
    """The 'Compare with a second pair' accordion of the NLI tab (inside its build)."""
    import gradio as gr

    from .limits import MAX_NLI_PIECES

    section, (premise2, hypothesis2), go, outputs, _, paint = comparison_accordion(
        runtime,
        "Compare with a second pair (the same alignment β)",
        "Pair A is the premise and hypothesis above; type pair B here (e.g. the same premise, one word changed).",
        "nli-compare",
        [
            ("premise", "Premise B", {"pieces": MAX_NLI_PIECES}),
            ("hypothesis", "Hypothesis B", {"pieces": MAX_NLI_PIECES}),
        ],
        {"nli": "nli"},
        compare_pairs,
    )
    inputs = [premise, hypothesis, premise2, hypothesis2]
    shown = [*outputs.values(), section]
    gr.on(
        [go.click, premise2.submit, hypothesis2.submit], paint, inputs, shown, api_name=False, show_progress="minimal"
    )
    return FirstPaint(paint, inputs, shown)
