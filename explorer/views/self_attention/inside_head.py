"""One head, step by step: the bundled MiniLM's real numbers from the layer's input X to the
attention block's output, for the chosen layer, head and query token.

analyze(text, text_b, layer, head, query, encoder) -> InsideHeadResult -> figures(result) ->
SECTION, a part of the Self-attention tab (endpoint /self_attention_inside).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import Param, RunInfo, Section
from explorer.core import figures as fg
from explorer.core.limits import MAX_ATTENTION_TOKENS, check_whole, clean_text
from explorer.core.samples import encoder_pieces, sample_text
from explorer.web.exports import request_folder


@dataclass(frozen=True, kw_only=True)
class InsideHeadResult:
    """One head of one layer on one input, at one query token.

    inside: models.inside_attention.InsideHead (tokens, x [T, 384], q/k/v [T, 32], scores and
        weights [T, T], output [T, 32], concat / projected / residual / attention_output /
        layer_output [T, 384]; layer and head 0-based)
    query: int, the query token's index (0-based, as the figures number tokens)
    grid_difference: float, max |weights - the map the model's forward returned| over the head
    """

    inside: object
    query: int
    grid_difference: float
    run: RunInfo


def analyze(text: str, text_b: str, layer, head, query, encoder) -> InsideHeadResult:
    """layer and head are 1-based (the tab's sliders), query the 0-based token index."""
    pair = bool(text_b and str(text_b).strip())
    text = clean_text(text, "Sentence A" if pair else "The sentence")
    source = (text, clean_text(text_b, "Sentence B")) if pair else text
    layer = check_whole(layer, 1, encoder.layers, "Layer")
    head = check_whole(head, 1, encoder.heads, "Head")
    query = check_whole(query, 0, MAX_ATTENTION_TOKENS - 1, "The query token")
    start = time.perf_counter()
    inside = encoder.inside_head(source, layer - 1, head - 1, max_tokens=MAX_ATTENTION_TOKENS)
    T = len(inside.tokens)
    if query >= T:
        raise ValueError(f"Query token #{query} does not exist: the input has word pieces 0-{T - 1}.")
    return InsideHeadResult(
        inside=inside,
        query=query,
        grid_difference=float(np.abs(inside.weights - inside.model_weights).max()),
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


# -- figures ---------------------------------------------------------------------------------
def _where(r: InsideHeadResult) -> str:
    h = r.inside
    return f"layer {h.layer + 1}, head {h.head + 1}"


def x_figure(r: InsideHeadResult) -> dict:
    h = r.inside
    T, D = h.x.shape
    source = "LayerNorm(word + position + segment embeddings)" if h.layer == 0 else f"layer {h.layer}'s output"
    return fg.vectors(
        h.x, h.tokens, title=f"X: the input of layer {h.layer + 1} [{T} × {D}] = {source}", highlight_row=r.query
    )


def qkv_figures(r: InsideHeadResult) -> dict:
    h = r.inside
    T = len(h.tokens)
    names = {"q": ("Q", "queries", "W_Q"), "k": ("K", "keys", "W_K"), "v": ("V", "values", "W_V")}
    return {
        name: fg.vectors(
            getattr(h, name),
            h.tokens,
            title=f"{big} = X {w} + b [{T} × {h.d_k}]",
            x_title=f"{what}: dimension of head {h.head + 1}",
            highlight_row=r.query if name == "q" else None,
        )
        for name, (big, what, w) in names.items()
    }


def scores_figure(r: InsideHeadResult) -> dict:
    h, i = r.inside, r.query
    return fg.bar(
        h.scores[i],
        fg.numbered(h.tokens),
        title=f"Scores of query {i} ({fg.label(h.tokens[i])}): q·k<sub>j</sub> / √{h.d_k} [1 × {len(h.tokens)}]",
        x_title="score (before softmax)",
        colors=["#3b6ea5" if s >= 0 else "#e76f51" for s in h.scores[i]],
    )


def weights_figure(r: InsideHeadResult) -> dict:
    h, i = r.inside, r.query
    return fg.bar(
        h.weights[i],
        fg.numbered(h.tokens),
        title=f"softmax over keys: row {i} of the map, sums to 1 [1 × {len(h.tokens)}]",
        x_title="attention weight",
        x_range=(0, 1),
    )


def output_figure(r: InsideHeadResult) -> dict:
    h = r.inside
    return fg.vectors(
        h.output,
        h.tokens,
        title=f"Output A V [{len(h.tokens)} × {h.d_k}]: row {r.query} = Σ<sub>j</sub> A<sub>{r.query}j</sub> v<sub>j</sub>",
        x_title=f"dimension of head {h.head + 1}",
        highlight_row=r.query,
    )


def steps_table(r: InsideHeadResult) -> dict:
    """Every step with its shape and the query token's row: its length and first values."""
    h, i = r.inside, r.query
    T, D = h.x.shape
    H = D // h.d_k
    rows = []
    if h.layer == 0:
        rows += [
            ("word embedding", "E_word[piece]", f"{T} × {D}", h.word[i]),
            ("position embedding", "E_pos[t] (learned, t = 0, 1, …)", f"{T} × {D}", h.position[i]),
            ("segment embedding", "E_seg[A or B]", f"{T} × {D}", h.segment[i]),
            ("X", "LayerNorm(word + position + segment)", f"{T} × {D}", h.x[i]),
        ]
    else:
        rows.append(("X", f"output of layer {h.layer}", f"{T} × {D}", h.x[i]))
    rows += [
        ("Q (this head)", "X W_Qᵀ + b_Q, columns of head h", f"{T} × {h.d_k}", h.q[i]),
        ("K (this head)", "X W_Kᵀ + b_K", f"{T} × {h.d_k}", h.k[i]),
        ("V (this head)", "X W_Vᵀ + b_V", f"{T} × {h.d_k}", h.v[i]),
        ("scores", f"q kᵀ / √{h.d_k}", f"{T} × {T}", h.scores[i]),
        ("weights A", "softmax over each row", f"{T} × {T}", h.weights[i]),
        ("head output", "A V", f"{T} × {h.d_k}", h.output[i]),
        ("concat", f"[O_1 … O_{H}], {H} heads side by side", f"{T} × {D}", h.concat[i]),
        ("W_O", "concat W_Oᵀ + b_O", f"{T} × {D}", h.projected[i]),
        ("residual", "X + that", f"{T} × {D}", h.residual[i]),
        ("LayerNorm", "LayerNorm(residual): the attention block's output", f"{T} × {D}", h.attention_output[i]),
        ("feed-forward", "LayerNorm(y + W_2 GELU(W_1 y)): the next layer's X", f"{T} × {D}", h.layer_output[i]),
    ]
    # As gr.Dataframe's own {"headers", "data"}: a pandas frame costs more than the table's numbers.
    return {
        "headers": ["step", "computes", "shape", f"‖row {i}‖", f"row {i}, first 4 values"],
        "data": [
            [name, formula, shape, round(float(np.linalg.norm(v)), 3), ", ".join(f"{x:.3f}" for x in v[:4])]
            for name, formula, shape, v in rows
        ],
    }


def status(r: InsideHeadResult) -> str:
    h, i = r.inside, r.query
    return (
        f"**{_where(r).capitalize()}, query {i} ({fg.markdown_text(h.tokens[i])})**: {len(h.tokens)} word pieces, "
        f"d_k = {h.d_k}; computed in {r.run.seconds * 1000:.0f} ms on {r.run.device}. The softmax recomputed here "
        f"from W_Q, W_K equals the map the model returned (the grid's) to {r.grid_difference:.1e}."
    )


def figures(r: InsideHeadResult) -> dict:
    return {
        "status": status(r),
        "x": x_figure(r),
        **qkv_figures(r),
        "scores": scores_figure(r),
        "weights": weights_figure(r),
        "output": output_figure(r),
        "steps": steps_table(r),
    }


# -- exports -------------------------------------------------------------------------------------
ARRAYS = ("x", "word", "position", "segment", "q", "k", "v", "scores", "weights", "output", "concat",
          "projected", "residual", "attention_output", "layer_output")  # fmt: skip


def write_exports(r: InsideHeadResult, folder: Path | None = None) -> list[str]:
    """inside_head.json (every array, 6 decimals) and the head's scores and weights as CSV."""
    h = r.inside
    folder = Path(folder or request_folder("inside-head"))
    payload = {
        "tokens": h.tokens,
        "layer": h.layer,
        "head": h.head,
        "indexing": "0-based layer and head, as attentions[layer, head]",
        "query": r.query,
        "d_k": h.d_k,
        **{
            name: np.round(getattr(h, name).astype(np.float64), 6).tolist()
            for name in ARRAYS
            if getattr(h, name) is not None
        },
    }
    paths = [folder / "inside_head.json"]
    paths[0].write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    labels = fg.numbered(h.tokens)  # "i: token" never starts with = + - @
    for name in ("scores", "weights"):
        path = folder / f"{name}_layer{h.layer + 1}_head{h.head + 1}.csv"
        frame = pd.DataFrame(np.round(getattr(h, name), 6), index=pd.Index(labels, name="query \\ key"), columns=labels)
        frame.to_csv(path, encoding="utf-8")
        paths.append(path)
    return [str(p) for p in paths]


# -- endpoints and the section ---------------------------------------------------------------------
def show(text, text_b, layer, head, query, *, encoder) -> dict:
    """/self_attention_inside: sentence (and B), 1-based layer and head, 0-based query token ->
    status, X, Q, K, V, scores, weights, output, the steps table."""
    r = analyze(text, text_b, layer, head, query, encoder)
    return {**figures(r), "result": r}


def query_slider() -> dict:
    return {"query": gr.Slider(0, MAX_ATTENTION_TOKENS - 1, value=1, step=1, label="Query token # (0 = [CLS])",
                               elem_id="inside-query")}  # fmt: skip


def arrays() -> dict:
    x = gr.Plot(show_label=False, elem_id="inside-x")
    with gr.Row():
        q, k, v = (gr.Plot(show_label=False, elem_id=f"inside-{n}") for n in "qkv")
    with gr.Row():
        scores = gr.Plot(show_label=False, elem_id="inside-scores")
        weights = gr.Plot(show_label=False, elem_id="inside-weights")
    output = gr.Plot(show_label=False, elem_id="inside-output")
    steps = gr.Dataframe(label="Every step for the query token, with its shape", wrap=True, elem_id="inside-steps")
    return {"x": x, "q": q, "k": k, "v": v, "scores": scores, "weights": weights, "output": output, "steps": steps}


def sample(tokens: int, models) -> dict:
    return {"text": sample_text(encoder_pieces(models), tokens), "text_b": "", "layer": 3, "head": 6, "query": 2}


SECTION = Section(
    title="One head, step by step",
    api_name="self_attention_inside",
    models={"encoder": "encoder"},
    reads=("text", "text_b", "layer", "head"),
    inputs=("query",),
    handler=show,
    analyze=analyze,
    figures=figures,
    build_inputs=query_slider,
    build_outputs=arrays,
    button="Show this head step by step",
    intro="The bundled all-MiniLM-L6-v2's own numbers for the sentence above, the **layer and head on the "
    "sliders**, and one query token: each step of one head, then how the 12 heads become the layer's output.",
    note="inside_head",
    rerun_on=("query",),
    export=write_exports,
    export_label="Export every array (JSON) and the scores and weights (CSV)",
    examples=(
        {"text": "The cat sat on the mat because it was tired.", "text_b": "", "layer": 1, "head": 1, "query": 1},
    ),
    limits={"text": MAX_ATTENTION_TOKENS, "query": MAX_ATTENTION_TOKENS - 1},
    floor="models.floors:inside_head",
    sample=sample,
    links=(Param("query", "query", "The query token #", "int", 0, MAX_ATTENTION_TOKENS - 1),),
)
