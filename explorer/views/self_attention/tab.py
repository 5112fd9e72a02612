"""The Self-attention tab: the sentence boxes, the layer x head grid, the zoomed head and its
statistics, export, the comparison with a second input (compare.py); then its sections (placed by
explorer/web/sections.py): bertviz on request, and "Inside self-attention" as sub-tabs (INSIDE).
What it computes is analysis.py.
"""

from __future__ import annotations

import html

import gradio as gr

from explorer.contract import FirstPaint, Param, Section, View, text_param
from explorer.core.limits import MAX_ATTENTION_TOKENS, MAX_BERTVIZ_TOKENS, MAX_MODEL_NAME, input_label
from explorer.core.safe_html import local_scripts
from explorer.core.samples import sample_text
from explorer.web.sections import export_accordion, place
from explorer.web.ui import endpoint, listen, live, teaching_note, with_inputs
from models.runtime import MODELS

from . import ablation_section, inside_head, positions, rollout_section
from .analysis import EXAMPLES, analyze, bertviz, export, figures, need, pick_from_table, show, zoom
from .compare import attention_section

LAYERS, HEADS = MODELS["encoder"].shape["layers"], MODELS["encoder"].shape["heads"]  # the bundled encoder's


def build(view: View, runtime) -> FirstPaint:
    """The Self-attention tab inside the current gr.Blocks."""
    gr.set_static_paths(list(local_scripts().values()))  # d3 / jQuery for bertviz, from site-packages

    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                value=EXAMPLES[0][0],
                lines=2,
                **input_label("Sentence", pieces=MAX_ATTENTION_TOKENS),
                elem_id="attn-text",
            )
            text_b = gr.Textbox(
                value="",
                lines=1,
                elem_id="attn-text-b",
                **input_label(
                    "Sentence B: a pair reads [CLS] A [SEP] B [SEP]; both count to the pieces", optional=True
                ),
            )
            # Labelled buttons, not a two-column table that is cut off on the right.
            gr.Examples(
                [list(e) for e in EXAMPLES],
                inputs=[text, text_b],
                example_labels=[f"{a} | {b}" if b else a for a, b in EXAMPLES],
            )
            with gr.Row():
                merge = gr.Checkbox(
                    False,
                    label="Merge word pieces into words (sum over key pieces, mean over query pieces)",
                    elem_id="attn-merge",
                )
                model_name = gr.Textbox(
                    "",
                    label=f"Encoder: empty = bundled all-MiniLM-L6-v2, or a hub id (needs internet; "
                    f"Enter loads; ≤ {MAX_MODEL_NAME} characters)",
                    max_length=MAX_MODEL_NAME,
                    elem_id="attn-model",
                    placeholder="e.g. bert-base-uncased",
                )
        with gr.Column(scale=2):
            teaching_note("self_attention")
    status_md = gr.Markdown(elem_id="attn-status")
    grid = gr.Plot(show_label=False, elem_id="attn-grid")
    gr.Markdown(
        "Pick a head with the sliders, or click a row of the table, to zoom in. "
        "The camera icon on each figure (top right, on hover) downloads it as PNG."
    )
    with gr.Row():
        layer = gr.Slider(1, LAYERS, value=1, step=1, label="Layer", elem_id="attn-layer")
        head = gr.Slider(1, HEADS, value=1, step=1, label="Head", elem_id="attn-head")
    zoom_plot = gr.Plot(show_label=False, elem_id="attn-zoom")
    with gr.Row():  # full width: its 10 columns fit without scrolling at 1280 px
        table = gr.Dataframe(
            label="Head statistics (mean over query tokens): sort or filter a column with ⋮ in its header; "
            "click a row to zoom into that head",
            interactive=False,
            elem_id="attn-table",
        )
    compared = attention_section(runtime, text=text, text_b=text_b, merge=merge, layer=layer, head=head)
    result = gr.State(None)
    with gr.Accordion("bertviz: head view and model view (rendered on demand)", open=False):
        tab = {"text": text, "text_b": text_b, "layer": layer, "head": head, "result": result}
        rendered = place((BERTVIZ,), runtime, tab, as_tabs=False)
    files = export_accordion(
        view.api_name,
        "Export: CSV of the zoomed head, JSON of all attentions",
        runtime,
        export,
        [result, layer, head],
        files_label="Zoomed head (CSV), all attentions (JSON)",
    )

    outputs = {
        "status": status_md,
        "grid": grid,
        "zoom": zoom_plot,
        "table": table,
        "layer": layer,
        "head": head,
        "result": result,
        "files": files,
    }
    # A new answer empties bertviz's views (they draw the previous one) and the Export's files.
    frames = [c for c in rendered[0].outputs if isinstance(c, gr.HTML)]
    bertviz_views = dict(zip(("head_view", "model_view"), frames))
    outputs.update(bertviz_views)
    shown = [status_md, grid, zoom_plot, table, layer, head, *bertviz_views.values(), files, result]
    answer = endpoint(
        runtime, view.models, lambda *inputs, encoder: show(*inputs, encoder=encoder, runtime=runtime), outputs
    )
    answer.__name__ = "show"

    def run(*inputs):
        out = answer(*inputs)
        r = out[result]
        notice = r.encoded.notice
        if notice:
            gr.Warning(html.escape(notice))  # it quotes the model name the user typed
        out[layer], out[head] = (
            gr.Slider(value=out[layer], maximum=r.layers),
            gr.Slider(value=out[head], maximum=r.heads),
        )
        return out

    with_inputs(run, view.inputs)  # the API's parameters: text, text_b, model_name, merge, layer, head
    inputs = [text, text_b, model_name, merge, layer, head]
    listen(text, run, inputs, shown, status_md, api_name=view.api_name)
    run_live = live(run, status_md, shown)
    text_b.change(run_live, inputs, shown, api_name=False, trigger_mode="always_last", show_progress="minimal")
    merge.change(run_live, inputs, shown, api_name=False)
    model_name.submit(run_live, inputs, shown, api_name=False)
    zoomed = endpoint(runtime, {}, zoom, outputs)
    layer.release(zoomed, [result, layer, head], zoom_plot, api_name=False, show_progress="hidden")
    head.release(zoomed, [result, layer, head], zoom_plot, api_name=False, show_progress="hidden")
    picked = endpoint(runtime, {}, pick_from_table, outputs)

    def pick(r, evt: gr.SelectData):  # gradio finds the event argument by its type hint
        return picked(r, evt.row_value or [])

    table.select(pick, [result], [layer, head, zoom_plot], api_name=False)
    gr.Markdown("## Inside self-attention, and whether attention explains", elem_id="inside-heading")
    sections = place(
        INSIDE, runtime, tab, elem_id="inside-tabs"
    )  # issue 14: one head step by step, positions, rollout, ablation
    components = {"text": text, "text_b": text_b, "merge": merge, "layer": layer, "head": head}
    return FirstPaint(
        run_live,
        inputs,
        shown,
        linked=(compared, *rendered, *sections),
        components={**components, **compared.components},
    )


def bertviz_views() -> dict:
    gr.Markdown(
        "bertviz numbers layers and heads from 0 (our layer 1 is its layer 0). Head view: pick a layer, "
        "click a colour to show or hide a head, hover a token. Model view: click a thumbnail to enlarge it."
    )
    return {"head_view": gr.HTML(elem_id="attn-head-view"), "model_view": gr.HTML(elem_id="attn-model-view")}


BERTVIZ = Section(
    title="bertviz",
    api_name="self_attention_bertviz",
    models={},
    reads=("result",),
    handler=bertviz,
    analyze=need,
    figures=bertviz,
    build_outputs=bertviz_views,
    button=f"Render bertviz views (≤ {MAX_BERTVIZ_TOKENS} tokens)",
)


# "Inside self-attention", as sub-tabs under the head statistics.
INSIDE = (
    inside_head.SECTION,
    positions.SECTION,
    rollout_section.SECTION,
    ablation_section.SECTION,
    ablation_section.IMPORTANCE_SECTION,
)

VIEW = View(
    title="Self-attention",
    api_name="self_attention",
    models={"encoder": "encoder"},
    inputs=("text", "text_b", "model_name", "merge", "layer", "head"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=tuple(
        {"text": a, "text_b": b, "model_name": "", "merge": False, "layer": 1, "head": 1} for a, b in EXAMPLES
    ),
    limits={"text": MAX_ATTENTION_TOKENS, "model_name": MAX_MODEL_NAME},
    floor="models.floors:encoder",
    sample=lambda tokens, models: {
        "text": sample_text(lambda t: len(models["encoder"].encode(t)["input_ids"][0]), tokens),
        "text_b": "",
        "model_name": "",
        "merge": False,
        "layer": 1,
        "head": 1,
    },
    links=(
        text_param("text", "text", "The sentence"),
        text_param("text_b", "text_b", "Sentence B", optional=True),
        Param("layer", "layer", "The layer", "int", 1, LAYERS),
        Param("head", "head", "The head", "int", 1, HEADS),
        Param("merge", "merge", "merge", "bool"),
        text_param("text2", "text2", "The second input", optional=True),
        text_param("text2_b", "text2_b", "The second input's sentence B", optional=True),
    ),
    sections=(BERTVIZ, *INSIDE),
)
