"""The NLI alignment tab: premise and hypothesis, the label and its probabilities, e, β, α, the
contributions and the hard alignment, export; then its sections: the comparison with a second
pair (compare.py) and attention vs saliency (explorer/views/saliency_section.py). What it
computes is analysis.py.
"""

from __future__ import annotations

import gradio as gr

from explorer.contract import FirstPaint, View, text_param
from explorer.core.limits import MAX_NLI_PIECES, input_label
from explorer.core.samples import sample_hypothesis, sample_text
from explorer.views import saliency_section
from explorer.web.sections import export_accordion, place
from explorer.web.ui import batched, endpoint, listen, live, teaching_note

from .analysis import analyze, examples, export, figures, render, show, show_many
from .compare import nli_section


def build(view: View, runtime) -> FirstPaint:
    """The NLI alignment tab inside the current gr.Blocks."""
    pairs = examples()
    with gr.Row():
        with gr.Column(scale=3):
            premise = gr.Textbox(
                value=pairs[0][0][0], lines=2, elem_id="nli-premise", **input_label("Premise", pieces=MAX_NLI_PIECES)
            )
            hypothesis = gr.Textbox(
                value=pairs[0][0][1],
                lines=2,
                elem_id="nli-hypothesis",
                **input_label("Hypothesis", pieces=MAX_NLI_PIECES),
            )
            gr.Examples(
                [p for p, _ in pairs],
                inputs=[premise, hypothesis],
                example_labels=[c for _, c in pairs],
                examples_per_page=12,
            )
        with gr.Column(scale=2):
            teaching_note("nli")
    status = gr.Markdown(elem_id="nli-status")
    with gr.Row():
        probs = gr.Plot(show_label=False, elem_id="nli-probs")
        contribution = gr.Plot(show_label=False, elem_id="nli-contribution")
    alignment = gr.Plot(show_label=False, elem_id="nli-alignment")
    with gr.Row():
        beta = gr.Plot(show_label=False, elem_id="nli-beta")
        alpha = gr.Plot(show_label=False, elem_id="nli-alpha")
    hard = gr.Dataframe(
        label="Hard alignment: each word's most-weighted partner, and how much weight the argmax gets",
        wrap=True,
        elem_id="nli-hard",
    )
    compared = nli_section(runtime, premise=premise, hypothesis=hypothesis)
    result = gr.State()
    files = export_accordion(
        view.api_name,
        "Export the matrices e, β, α as CSV (row and column 0 are the NULL word ∅)",
        runtime,
        export,
        [result],
        files_label="Matrices as CSV. PNG: the camera icon above each chart",
    )
    with gr.Accordion(saliency_section.HEADING, open=False):  # issue 14: attention vs saliency
        sections = place(view.sections, runtime, {"premise": premise, "hypothesis": hypothesis}, as_tabs=False)
    outputs = {
        "status": status,
        "probs": probs,
        "alignment": alignment,
        "beta": beta,
        "alpha": alpha,
        "contribution": contribution,
        "hard": hard,
        "files": files,
        "result": result,
    }
    run = endpoint(runtime, view.models, show, outputs)
    listen(
        premise,
        run,
        [premise, hypothesis],
        list(outputs.values()),
        status,
        api_name=view.api_name,
        run_batch=batched(runtime, view.models, show_many, render, outputs, "status", same_as=show),
    )
    run_live = live(run, status, list(outputs.values()))
    hypothesis.change(
        run_live,
        [premise, hypothesis],
        list(outputs.values()),
        api_name=False,
        trigger_mode="always_last",
        show_progress="minimal",
    )
    return FirstPaint(
        run_live,
        [premise, hypothesis],
        list(outputs.values()),
        linked=(compared, *sections),
        components={"premise": premise, "hypothesis": hypothesis, **compared.components},
    )


def sample(tokens: int, models) -> dict:
    count = saliency_section.nli_pieces(models)
    return {"premise": sample_text(count, tokens), "hypothesis": sample_hypothesis(count, tokens)}


VIEW = View(
    title="NLI alignment",
    api_name="nli",
    models={"nli": "nli"},
    inputs=("premise", "hypothesis"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=tuple({"premise": p, "hypothesis": h} for (p, h), _ in examples()),
    limits={"premise": MAX_NLI_PIECES, "hypothesis": MAX_NLI_PIECES},
    sample=sample,
    floor="models.floors:nli",
    links=(
        text_param("text", "premise", "The premise"),
        text_param("text_b", "hypothesis", "The hypothesis"),
        text_param("text2", "premise2", "The second premise", optional=True),
        text_param("text2_b", "hypothesis2", "The second hypothesis", optional=True),
    ),
    sections=(saliency_section.NLI_SECTION,),
)
