"""The Transformer tab: an English caption through the Transformer encoder-decoder, its three
attentions (encoder self-attention, the decoder's masked self-attention, cross-attention) as
layers x heads grids, one head or the head average zoomed, decoding step by step, its word
alignment next to the GRU's; then its sections: bertviz's encoder-decoder view and how the
alignment formed during training. What it computes is analysis.py.
"""

from __future__ import annotations

import gradio as gr

from explorer.contract import FirstPaint, Param, Section, View, text_param
from explorer.core.limits import MAX_BEAM, MAX_BERTVIZ_TOKENS, MAX_SOURCE_TOKENS, input_label, max_decoding_step
from explorer.core.samples import sample_text
from explorer.views.translation import DOMAIN_NOTE
from explorer.web.sections import export_accordion, place
from explorer.web.ui import endpoint, listen, live, teaching_note, with_inputs
from models.runtime import MODELS

from .analysis import (
    EXAMPLES,
    KINDS,
    analyze,
    bertviz_html,
    export_files,
    figures,
    history_figure,
    load_history,
    step_figures,
    zoom_figure,
)

SHAPE = MODELS["translator/transformer"].shape  # read from its config.json, before the weights load
LAYERS, HEADS = SHAPE["decoder_layers"], SHAPE["heads"]
ALIGNMENT_LAYER = LAYERS - 1  # 1-based: the penultimate decoder layer (models.transformer: alignment_layer = -2)
KIND_LABELS = [
    ("cross-attention (decoder → source)", "cross"),
    ("encoder self-attention (source → source)", "encoder"),
    ("decoder masked self-attention (y → y≤t)", "decoder"),
]


# -- the endpoints -----------------------------------------------------------------------------------
def show(text: str, beam_size, kind, layer, head, *, transformer, gru) -> dict:
    """/transformer: an English caption, the beam size (1 = greedy), which attention to zoom
    (cross | encoder | decoder), its layer and head (1-based; the head average is drawn beside it)
    -> the translation, the three grids, the zoomed head and the head average, step 0, the GRU's
    alignment beside the Transformer's and their agreement."""
    r = analyze(text, beam_size, transformer, gru)
    return {**figures(r, kind, layer, head, 0), "step": 0, "result": r, "files": None}


def zoom(r, kind, layer, head) -> dict:
    r = need(r)
    return {"zoom": zoom_figure(r, kind, layer, head), "head_average": zoom_figure(r, kind, layer, 0)}


def step(r, t, layer, head) -> dict:
    return step_figures(need(r), t, layer, head)


def need(r):
    if r is None:
        raise ValueError("Translate a sentence first.")
    return r


def bertviz(result) -> dict:
    """/transformer_bertviz: bertviz's model view of the last answer's three attentions."""
    return {"model_view": bertviz_html(need(result), "model")}


def history(epoch, caption) -> dict:
    """/transformer_history: one validation caption's alignment after an epoch of training."""
    f = history_figure(load_history(), epoch, caption)
    return {"status": f["history_status"], "alignment": f["history_alignment"], "bleu": f["history_bleu"]}


# -- the tab ----------------------------------------------------------------------------------------
def build(view: View, runtime) -> FirstPaint:
    """The Transformer tab inside the current gr.Blocks."""
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(
                value=EXAMPLES[0],
                lines=1,
                elem_id="transformer-text",
                **input_label("English sentence, one image caption", subwords=True),
            )
            gr.Markdown(DOMAIN_NOTE)
            gr.Examples([[e] for e in EXAMPLES], inputs=text)
            beam_size = gr.Slider(
                1, MAX_BEAM, value=1, step=1, label="Beam size k (1 = greedy search)", elem_id="transformer-beam"
            )
        with gr.Column(scale=2):
            teaching_note("transformer")
    translation = gr.Textbox(label="German translation (Transformer)", interactive=False, elem_id="transformer-output")
    status = gr.Markdown(elem_id="transformer-status")
    gr.Markdown(
        "### Three attentions, every layer and head\nRow = query, column = key; each row sums to 1. In the "
        "decoder's self-attention the grey cells are masked: position t may not look at the tokens after it."
    )
    with gr.Tabs():
        grids = {}
        for label, kind in KIND_LABELS:
            with gr.Tab(label.split(" (")[0].capitalize()):
                grids[f"{kind}_grid"] = gr.Plot(show_label=False, elem_id=f"transformer-{kind}-grid")
    with gr.Row():
        kind = gr.Radio(KIND_LABELS, value="cross", label="Zoom into", elem_id="transformer-kind")
        layer = gr.Slider(1, LAYERS, value=ALIGNMENT_LAYER, step=1, label="Layer", elem_id="transformer-layer")
        head = gr.Slider(1, HEADS, value=1, step=1, label="Head (left; the mean of the heads is on the right)",
                         elem_id="transformer-head")  # fmt: skip
    with gr.Row():
        zoomed = gr.Plot(show_label=False, elem_id="transformer-zoom")
        average = gr.Plot(show_label=False, elem_id="transformer-head-average")
    gr.Markdown(
        "### Decoding step by step\nAt step t the decoder reads y_<t (its self-attention row, the future masked) "
        "and the source (its cross-attention row), then writes one token. Layer and head as above."
    )
    with gr.Row():
        with gr.Column():
            steps = gr.Slider(0, 1, value=0, step=1, label="Decoding step t", elem_id="transformer-step")
            written = gr.HighlightedText(
                label="Output so far (y_<t) and the token written at step t",
                show_legend=False,
                color_map={"written": "#e0e0e0"},
                elem_id="transformer-written",
            )
        decoder_step = gr.Plot(show_label=False, elem_id="transformer-decoder-step")
    cross_step = gr.Plot(show_label=False, elem_id="transformer-cross-step")
    gr.Markdown(
        "### Next to the GRU\nThe same English and the Transformer's German through the GRU with additive "
        "attention (teacher-forced), both at word level: do the two models look at the same words?"
    )
    pair = gr.Plot(show_label=False, elem_id="transformer-alignment-pair")
    result = gr.State()
    files = export_accordion(
        view.api_name,
        "Export: the alignment (CSV), both models' word alignments (CSV), every attention (JSON)",
        runtime,
        lambda r: {"files": export_files(need(r))},
        [result],
    )
    tab = {"text": text, "beam_size": beam_size, "kind": kind, "layer": layer, "head": head, "result": result}
    with gr.Accordion("bertviz: the encoder-decoder model view (rendered on demand)", open=False):
        rendered = place((BERTVIZ,), runtime, tab, as_tabs=False)
    gr.Markdown("## How the alignment was learned", elem_id="transformer-history-heading")
    learned = place((HISTORY,), runtime, tab, as_tabs=False)

    outputs = {
        "translation": translation,
        "status": status,
        **grids,
        "zoom": zoomed,
        "head_average": average,
        "layer": layer,
        "head": head,
        "step": steps,
        "written": written,
        "decoder_step": decoder_step,
        "cross_step": cross_step,
        "alignment_pair": pair,
        "files": files,
        "result": result,
    }
    answer = endpoint(runtime, view.models, show, outputs)

    def run(text, beam_size, kind, layer_value, head_value):
        out = answer(text, beam_size, kind, layer_value, head_value)
        r = out[result]
        T = len(r.translation.target_tokens)
        out[steps] = gr.Slider(minimum=0, maximum=max(1, T - 1), value=0, step=1, interactive=T > 1)
        # With their values: a deep link's layer and head arrive in this answer, and the rerun its
        # sentence then causes reads them from the sliders.
        out[layer] = gr.Slider(value=int(layer_value), maximum=r.layers)
        out[head] = gr.Slider(value=int(head_value), maximum=r.heads)
        return out

    with_inputs(run, view.inputs)  # the API's parameters: text, beam_size, kind, layer, head
    inputs = [text, beam_size, kind, layer, head]
    shown = list(outputs.values())
    listen(text, run, inputs, shown, status, api_name=view.api_name)
    run_live = live(run, status, shown)
    beam_size.release(run_live, inputs, shown, api_name=False, show_progress="minimal")
    zoom_event = endpoint(runtime, {}, zoom, outputs)
    for control in (layer, head):
        control.release(
            zoom_event, [result, kind, layer, head], [zoomed, average], api_name=False, show_progress="hidden"
        )
    kind.change(zoom_event, [result, kind, layer, head], [zoomed, average], api_name=False, show_progress="hidden")
    stepped = endpoint(runtime, {}, step, outputs)
    steps.change(stepped, [result, steps, layer, head], [decoder_step, cross_step, written], api_name=False,
                 show_progress="hidden")  # fmt: skip
    components = {"text": text, "beam_size": beam_size, "kind": kind, "layer": layer, "head": head, "step": steps}
    return FirstPaint(run_live, inputs, shown, linked=(*rendered, *learned), components=components)


def bertviz_frame() -> dict:
    gr.Markdown(
        "bertviz numbers layers and heads from 0. Choose Encoder, Decoder or Cross at the top of the view; "
        "click a thumbnail to enlarge it."
    )
    return {"model_view": gr.HTML(elem_id="transformer-model-view")}


BERTVIZ = Section(
    title="bertviz",
    api_name="transformer_bertviz",
    models={},
    reads=("result",),
    handler=bertviz,
    analyze=need,
    figures=bertviz,
    build_outputs=bertviz_frame,
    button=f"Render bertviz's model view (≤ {MAX_BERTVIZ_TOKENS} tokens)",
)


def history_range() -> tuple[int, int]:
    """(the last epoch, how many captions) of the bundled training history ((1, 1) without one)."""
    known = load_history()
    return (known["epochs"][-1]["epoch"], len(known["sources"])) if known else (1, 1)


def history_inputs() -> dict:
    epochs, captions = history_range()
    return {
        "epoch": gr.Slider(1, epochs, value=1, step=1, label="After epoch", elem_id="history-epoch"),
        "caption": gr.Slider(0, captions - 1, value=0, step=1, label="Validation caption #", elem_id="history-caption"),
    }


def history_outputs() -> dict:
    with gr.Row():
        return {
            "alignment": gr.Plot(show_label=False, elem_id="history-alignment"),
            "bleu": gr.Plot(show_label=False, elem_id="history-bleu"),
        }


HISTORY = Section(
    title="How the alignment was learned",
    api_name="transformer_history",
    models={},
    reads=(),
    inputs=("epoch", "caption"),
    handler=history,
    analyze=load_history,
    figures=history_figure,
    build_inputs=history_inputs,
    build_outputs=history_outputs,
    button="Show this epoch",
    intro="While the Transformer trained (training/train_transformer.py), the cross-attention of a few fixed "
    "validation captions was kept after every epoch: move the epoch and watch the alignment form as "
    "validation BLEU climbs.",
    rerun_on=("epoch", "caption"),
    examples=({"epoch": 1, "caption": 0}, {"epoch": 20, "caption": 0}),
    links=(
        Param("epoch", "epoch", "The epoch", "int", 1, lambda: history_range()[0]),
        Param("caption", "caption", "The caption #", "int", 0, lambda: history_range()[1] - 1),
    ),
)


def sample(tokens: int, models) -> dict:
    count = lambda t: len(models["transformer"].encode_source(t)[0])  # noqa: E731
    return {"text": sample_text(count, tokens), "beam_size": 1, "kind": "cross", "layer": ALIGNMENT_LAYER, "head": 1}


VIEW = View(
    title="Transformer",
    api_name="transformer",
    models={"transformer": "translator/transformer", "gru": "translator/attention"},
    inputs=("text", "beam_size", "kind", "layer", "head"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=tuple({"text": e, "beam_size": 1, "kind": "cross", "layer": ALIGNMENT_LAYER, "head": 1} for e in EXAMPLES),
    limits={"text": MAX_SOURCE_TOKENS, "beam_size": MAX_BEAM},
    floor="models.floors:transformer",
    sample=sample,
    links=(
        text_param("text", "text", "The sentence"),
        Param("beam", "beam_size", "The beam size", "int", 1, MAX_BEAM),
        Param("kind", "kind", "The attention", "choice", choices=KINDS),
        Param("layer", "layer", "The layer", "int", 1, LAYERS),
        Param("head", "head", "The head", "int", 1, HEADS),
        Param("step", "step", "The decoding step", "int", 0, max_decoding_step(SHAPE["max_length_ratio"]), reset=True),
    ),
    sections=(BERTVIZ, HISTORY),
)
