"""Positions: the learned position embeddings, and an experiment that shows why attention needs
them. The same word pieces in another order, read with and without p_t: without them the chosen
head's map on the shuffled sentence is the original's map permuted, to float rounding.

analyze(text, layer, head, seed, encoder) -> PositionsResult -> figures(result) -> SECTION, a part of
the Self-attention tab (endpoint /self_attention_positions).
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
from explorer.core.limits import MAX_ATTENTION_TOKENS, MAX_SEED, POSITIONS_SHOWN, check_whole, clean_text
from explorer.core.samples import encoder_pieces, sample_text
from explorer.web.exports import request_folder


@dataclass(frozen=True, kw_only=True)
class PositionsResult:
    """similarity: float32[N, N], cosine of position embeddings p_i, p_j (N = POSITIONS_SHOWN)
    experiment: models.inside_attention.ShuffleExperiment (tokens, shuffled_tokens, order,
        attentions [2 original/shuffled, 2 with/without positions, L, H, T, T])
    layer, head: 0-based; seed: the shuffle's seed
    difference_with, difference_without: float[L, H], max |A_shuffled - P A Pᵀ| per head
    """

    similarity: np.ndarray
    experiment: object
    layer: int
    head: int
    seed: int
    difference_with: np.ndarray
    difference_without: np.ndarray
    run: RunInfo


def analyze(text: str, layer, head, seed, encoder) -> PositionsResult:
    """layer and head 1-based (the tab's sliders); seed picks the shuffle."""
    text = clean_text(text, "The sentence")
    layer = check_whole(layer, 1, encoder.layers, "Layer")
    head = check_whole(head, 1, encoder.heads, "Head")
    seed = check_whole(seed, 0, MAX_SEED, "The shuffle seed")
    start = time.perf_counter()
    experiment = encoder.shuffle_experiment(text, seed, max_tokens=MAX_ATTENTION_TOKENS)
    return PositionsResult(
        similarity=encoder.position_similarity(POSITIONS_SHOWN),
        experiment=experiment,
        layer=layer - 1,
        head=head - 1,
        seed=seed,
        difference_with=experiment.difference(positions=True),
        difference_without=experiment.difference(positions=False),
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


def similarity_figure(r: PositionsResult) -> dict:
    N = r.similarity.shape[0]
    labels = [str(i) for i in range(N)]
    return fg.heatmap(
        r.similarity,
        labels,
        labels,
        title=f"Cosine similarity of the learned position embeddings p<sub>0</sub> … p<sub>{N - 1}</sub>",
        x_title="position j",
        y_title="position i",
        colorscale="RdBu_r",
        zmin=-1,
        zmax=1,
        hover="cos = %{z:.2f}",
        cell_px=9,
    )


def map_figure(r: PositionsResult, shuffled: bool, positions: bool) -> dict:
    """The chosen head on the shuffled pieces, or the original's map permuted into their order."""
    e = r.experiment
    a = e.attentions[1, 0 if positions else 1] if shuffled else e.permuted_original(positions)
    A = a[r.layer, r.head]
    what = "shuffled sentence" if shuffled else "original, rows and columns permuted (P A Pᵀ)"
    labels = fg.numbered(e.shuffled_tokens)
    return fg.heatmap(
        A,
        labels,
        labels,
        title=f"{what}, {'with' if positions else 'WITHOUT'} positions",
        x_title="key",
        y_title="query",
        zmin=0,
        zmax=1,
        cell_px=16 if len(labels) <= 30 else 10,
    )


def status(r: PositionsResult) -> str:
    e, l, h = r.experiment, r.layer, r.head
    shuffled = " ".join(fg.markdown_text(t) for t in e.shuffled_tokens)
    return (
        f"**Shuffled (seed {r.seed})**: {shuffled}\n\n"
        f"Layer {l + 1}, head {h + 1}: max |A_shuffled − P A_original Pᵀ| = **{r.difference_without[l, h]:.1e} "
        f"without positions** (the same map, permuted) and **{r.difference_with[l, h]:.2f} with them**. Over all "
        f"{r.difference_with.size} heads: {r.difference_without.max():.1e} without, up to "
        f"{r.difference_with.max():.2f} with. Computed in {r.run.seconds * 1000:.0f} ms on {r.run.device} "
        "(one batch of 4: original and shuffled, each with and without p_t)."
    )


def figures(r: PositionsResult) -> dict:
    return {
        "status": status(r),
        "similarity": similarity_figure(r),
        "shuffled_with": map_figure(r, shuffled=True, positions=True),
        "permuted_with": map_figure(r, shuffled=False, positions=True),
        "shuffled_without": map_figure(r, shuffled=True, positions=False),
        "permuted_without": map_figure(r, shuffled=False, positions=False),
    }


def write_exports(r: PositionsResult, folder: Path | None = None) -> list[str]:
    """position_similarity.csv and shuffle_experiment.json (every head's maps, 5 decimals)."""
    folder = Path(folder or request_folder("positions"))
    N = r.similarity.shape[0]
    sim = folder / "position_similarity.csv"
    pd.DataFrame(np.round(r.similarity, 5), index=pd.Index(range(N), name="position i \\ j"), columns=range(N)).to_csv(
        sim, encoding="utf-8"
    )
    e = r.experiment
    payload = {
        "tokens": e.tokens,
        "shuffled_tokens": e.shuffled_tokens,
        "order": e.order.tolist(),
        "order_means": "shuffled_tokens[i] = tokens[order[i]]",
        "axes": ["original|shuffled", "with|without positions", "layer", "head", "query", "key"],
        "attentions": np.round(e.attentions.astype(np.float64), 5).tolist(),
        "max_difference_with_positions": np.round(r.difference_with, 6).tolist(),
        "max_difference_without_positions": r.difference_without.astype(np.float64).tolist(),
    }
    exp = folder / "shuffle_experiment.json"
    exp.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return [str(sim), str(exp)]


def show(text, layer, head, seed, *, encoder) -> dict:
    """/self_attention_positions: sentence, 1-based layer and head, shuffle seed -> the position
    similarity and the chosen head on the shuffled sentence with and without positions."""
    r = analyze(text, layer, head, seed, encoder)
    return {**figures(r), "result": r}


def seed_box() -> dict:
    return {"seed": gr.Number(0, label=f"Shuffle seed (0–{MAX_SEED})", precision=0, minimum=0, maximum=MAX_SEED,
                              elem_id="positions-seed")}  # fmt: skip


def maps() -> dict:
    with gr.Row():
        shuffled_with = gr.Plot(show_label=False, elem_id="positions-shuffled-with")
        permuted_with = gr.Plot(show_label=False, elem_id="positions-permuted-with")
    with gr.Row():
        shuffled_without = gr.Plot(show_label=False, elem_id="positions-shuffled-without")
        permuted_without = gr.Plot(show_label=False, elem_id="positions-permuted-without")
    similarity = gr.Plot(show_label=False, elem_id="positions-similarity")
    return {"similarity": similarity, "shuffled_with": shuffled_with, "permuted_with": permuted_with,
            "shuffled_without": shuffled_without, "permuted_without": permuted_without}  # fmt: skip


def sample(tokens: int, models) -> dict:
    return {"text": sample_text(encoder_pieces(models), tokens), "layer": 1, "head": 1, "seed": 0}


SECTION = Section(
    title="Positions",
    api_name="self_attention_positions",
    models={"encoder": "encoder"},
    reads=("text", "layer", "head"),
    inputs=("seed",),
    handler=show,
    analyze=analyze,
    figures=figures,
    build_inputs=seed_box,
    build_outputs=maps,
    button="Shuffle and compare",
    intro="Attention alone treats its input as a set. Shuffle the words of the sentence above and look at the "
    "head on the sliders with the position embeddings, and with them set to zero. (Sentence B is not used here.)",
    note="positions",
    export=write_exports,
    export_label="Export the similarity (CSV) and the experiment's maps (JSON)",
    examples=({"text": "The cat sat on the mat because it was tired.", "layer": 1, "head": 1, "seed": 0},),
    limits={"text": MAX_ATTENTION_TOKENS, "seed": MAX_SEED},
    floor="models.floors:positions",
    sample=sample,
    links=(Param("seed", "seed", "The shuffle seed", "int", 0, MAX_SEED),),
)
