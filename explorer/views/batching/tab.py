"""The Batch layout tab: the layout of one batch (analysis.py), and two sections run on
request: padded vs packed timed (COST_SECTION) and the mask experiment (training.SECTION)."""

from __future__ import annotations

import gradio as gr

from explorer.contract import FirstPaint, Section, View, text_param
from explorer.core.limits import MAX_SENTENCES, MAX_TOKENS, input_label
from explorer.web.sections import place
from explorer.web.ui import endpoint, listen, live, teaching_note

from . import training
from .analysis import analyze, cost_markdown, example_batch, examples, figures, packing_cost, show, show_row, timing

COST_SECTION = Section(
    title="Padded vs packed, timed",
    api_name="batch_cost",
    models={"tagger": "tagger"},
    reads=("text",),
    handler=timing,
    analyze=packing_cost,
    figures=lambda c: {"status": cost_markdown(c)},
    build_outputs=dict,
    # On request: the timing runs the BiLSTM 20 times, and a page open must not cost that (nor be
    # cached: "run it again" must measure again).
    button="Time padded vs packed (the BiLSTM, 5 runs each)",
    cached=False,
    examples=({"text": "the cat sat\nhi there\na much longer sentence here ."},),
    limits={"text": MAX_SENTENCES},
    floor="models.floors:batch",
)


def build(view: View, runtime) -> FirstPaint:
    """The Batch layout tab inside the current gr.Blocks."""
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                value=example_batch(),
                lines=6,
                elem_id="batch-text",
                max_lines=MAX_SENTENCES + 2,
                **input_label("Sentences, one per line", lines=True, tokens=True),
            )
            gr.Examples(
                [[example_batch()], ["the cat sat\nhi there\na much longer sentence here ."]],
                inputs=text,
                example_labels=["UD EWT dev sentences (gold tags: shows the loss)", "three short sentences"],
            )
        with gr.Column(scale=2):
            teaching_note("batching")
    summary = gr.Markdown(elem_id="batch-summary")
    timed = place((COST_SECTION,), runtime, {"text": text}, as_tabs=False)
    with gr.Tabs():
        with gr.Tab("Padded"):
            padded = gr.Plot(show_label=False, elem_id="batch-padded")
        with gr.Tab("Sorted"):
            sorted_plot = gr.Plot(show_label=False)
        with gr.Tab("PackedSequence"):
            packed = gr.Plot(show_label=False, elem_id="batch-packed")
            steps = gr.Dataframe(
                label="Time steps of the PackedSequence",
                wrap=True,
                column_widths=["6%", "13%", "22%", "14%", "45%"],  # the tokens need room; no header wraps
            )
        with gr.Tab("Mask"):
            mask = gr.Plot(show_label=False)
        with gr.Tab("Masked loss"):
            loss = gr.Plot(show_label=False)
        with gr.Tab("Transformer-style packing"):
            rows = gr.Plot(show_label=False, elem_id="batch-rows")
            row = gr.Slider(
                0,
                1,
                value=0,
                step=1,
                label="Row whose attention mask is shown (starts at the fullest)",
                elem_id="batch-row",
            )
            block = gr.Plot(show_label=False, elem_id="batch-block-mask")
    trained = place((training.SECTION,), runtime, {"text": text}, as_tabs=False)
    result = gr.State()
    outputs = {
        "summary": summary,
        "padded": padded,
        "sorted": sorted_plot,
        "packed": packed,
        "steps": steps,
        "mask": mask,
        "loss": loss,
        "rows": rows,
        "row": row,
        "block_mask": block,
        "result": result,
    }
    answer = endpoint(runtime, view.models, show, outputs)

    def run(text: str):
        out = answer(text)
        last = out[result].packing.segments.shape[0] - 1
        out[row] = gr.Slider(minimum=0, maximum=max(1, last), value=out[row], step=1, interactive=last > 0)
        return out

    listen(text, run, [text], list(outputs.values()), summary, api_name=view.api_name)
    row.release(endpoint(runtime, {}, show_row, outputs), [result, row], [block], api_name=False)
    shown = list(outputs.values())
    return FirstPaint(live(run, summary, shown), [text], shown, linked=timed + trained, components={"text": text})


def sample(tokens: int, models) -> dict:
    """The bench's batch: the 12 UD EWT dev sentences of the example, then the first ones again
    up to `tokens` lines (every line keeps its gold tags, so the masked loss is computed too)."""
    lines = list(examples())
    return {"text": "\n".join((lines * 2)[:tokens])}


VIEW = View(
    title="Batch layout",
    api_name="batch",
    models={"tagger": "tagger"},
    inputs=("text",),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=({"text": example_batch()}, {"text": "the cat sat\nhi there\na much longer sentence here ."}),
    limits={"text": MAX_SENTENCES, "tokens per line": MAX_TOKENS},
    sample=sample,
    floor="models.floors:batch",
    bench_sizes=(16,),
    links=(text_param("text", "text", "The batch"),),
    sections=(COST_SECTION, training.SECTION),
)
