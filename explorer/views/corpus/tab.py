"""The Across-a-corpus tab: what holds over whole test sets, next to your own sentence.

Its endpoint /corpus reads your sentence with the heads that find each relation best across UD
EWT dev, beside every model's corpus score; its sections (sub-tabs) are the three analyses:
heads that track syntax (heads_section.py), where each model is wrong (errors_section.py) and one
word in many contexts (contexts_section.py). What the endpoint computes is analysis.py.
"""

from __future__ import annotations

import gradio as gr

from explorer.contract import FirstPaint, View, text_param
from explorer.core.limits import MAX_ATTENTION_TOKENS, input_label
from explorer.core.samples import sample_text
from explorer.web.sections import place
from explorer.web.ui import endpoint, listen, live, teaching_note

from . import contexts_section, errors_section, heads_section
from .analysis import analyze, figures, show

EXAMPLES = (
    "The old man saw a small dog in the park.",
    "My sister bought a red car last week.",
    "The students who passed the exam celebrated with their teachers.",
)


def build(view: View, runtime) -> FirstPaint:
    """The Across-a-corpus tab inside the current gr.Blocks."""
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=EXAMPLES[0], lines=1, elem_id="corpus-text",
                              **input_label("Your sentence", pieces=MAX_ATTENTION_TOKENS))  # fmt: skip
            gr.Examples([[e] for e in EXAMPLES], inputs=text)
        with gr.Column(scale=2):
            teaching_note("corpus")
    status = gr.Markdown(elem_id="corpus-status")
    your_heads = gr.Dataframe(
        label="Your sentence through the best head for each relation: the word it picks as each word's head",
        interactive=False,
        wrap=True,
        elem_id="corpus-your-heads",
    )
    scores = gr.Dataframe(label="Every model over its test set (the model cards' scores)", interactive=False,
                          elem_id="corpus-scores")  # fmt: skip
    result = gr.State()
    gr.Markdown("## Three analyses over a whole corpus", elem_id="corpus-sections-heading")
    sections = place(view.sections, runtime, {"text": text}, elem_id="corpus-sections")
    outputs = {"status": status, "your_heads": your_heads, "scores": scores, "result": result}
    run = endpoint(runtime, view.models, show, outputs)
    shown = list(outputs.values())
    listen(text, run, [text], shown, status, api_name=view.api_name)
    return FirstPaint(live(run, status, shown), [text], shown, linked=sections, components={"text": text})


def sample(tokens: int, models) -> dict:
    return {"text": sample_text(lambda t: len(models["encoder"].tokenizer(t)["input_ids"]), tokens)}


VIEW = View(
    title="Across a corpus",
    api_name="corpus",
    models={"encoder": "encoder"},
    inputs=("text",),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=tuple({"text": e} for e in EXAMPLES),
    limits={"text": MAX_ATTENTION_TOKENS},
    sample=sample,
    floor="models.floors:encoder",
    links=(text_param("text", "text", "The sentence"),),
    sections=(heads_section.SECTION, errors_section.SECTION, contexts_section.SECTION),
)
