"""The 'Compare with a second pair' section of the NLI tab: the same alignment β for pair A (the
tab's premise and hypothesis) and pair B, and β_A − β_B where the words line up
(explorer/views/comparison.py).

compare_pairs(inputs..., nli) -> outputs by name; nli_section hooks it into the tab (tab.build),
and a deep link with text2 / text2_b paints it.
"""

from __future__ import annotations

import gradio as gr

from explorer.contract import FirstPaint
from explorer.core import figures as fg
from explorer.core.limits import MAX_NLI_PIECES
from explorer.core.text_alignment import difference, line_up
from explorer.views.comparison import comparison_accordion, difference_figure, largest_change

from . import analysis as nli_view


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
    return FirstPaint(paint, inputs, shown, components={"premise2": premise2, "hypothesis2": hypothesis2})
