"""Heads that track syntax (Clark et al. 2019) for the bundled MiniLM over UD English EWT dev, the
section /corpus_syntax_heads of the Across-a-corpus tab.

Precomputed by `python -m training.syntax_heads` (assets/analysis/syntax_heads.json): per relation
and head, the share of the relation's dependents whose gold head the head finds, both directions,
and the best fixed-offset baseline. Live: the chosen head's word-level attention on a corpus
sentence with its gold arcs marked, and on your sentence.

analyze(text, relation, direction, layer, head, example, encoder) -> HeadOnSentences -> figures
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import Param, RunInfo, Section
from explorer.core import figures as fg
from explorer.core.limits import MAX_ATTENTION_TOKENS, check_whole
from explorer.core.samples import sample_text
from explorer.web.exports import request_folder
from models.runtime import MODELS

from .analysis import CLARK_BERT_BASE, DIRECTIONS, asset, best_for, best_heads, pointed, relation_choices, words_of

API_NAME = "corpus_syntax_heads"
SHAPE = MODELS["encoder"].shape
LAYERS, HEADS = SHAPE["layers"], SHAPE["heads"]


def examples() -> list[dict]:
    return asset("syntax_heads")["examples"]


@dataclass(frozen=True, kw_only=True)
class HeadOnSentences:
    """relation, direction, layer, head (1-based): the choice; grid: float[layers, heads], the
    relation's accuracy per head in that direction; example: the corpus sentence's words, gold
    heads and relations; example_attention, your_attention: the head's word-level attention
    [W, W] on the corpus sentence and on yours."""

    relation: str
    direction: str
    layer: int
    head: int
    grid: np.ndarray
    count: int
    baseline: dict
    example: dict
    example_attention: np.ndarray
    your_words: list[str]
    your_attention: np.ndarray
    run: RunInfo


def check_choice(relation, direction) -> tuple[str, str]:
    if relation not in asset("syntax_heads")["relations"]:
        raise ValueError(f"The relation must be one of {', '.join(relation_choices())}, got {str(relation)[:40]!r}.")
    if direction not in DIRECTIONS:
        raise ValueError(f"The direction must be dep_to_head or head_to_dep, got {str(direction)[:40]!r}.")
    return relation, direction


def analyze(text, relation, direction, layer, head, example, encoder) -> HeadOnSentences:
    relation, direction = check_choice(relation, direction)
    layer = check_whole(layer, 1, LAYERS, "The layer")
    head = check_whole(head, 1, HEADS, "The head")
    sentence = examples()[check_whole(example, 0, len(examples()) - 1, "The corpus sentence #")]
    words = words_of(text, encoder)
    start = time.perf_counter()
    corpus = encoder.word_attention(sentence["words"], max_tokens=MAX_ATTENTION_TOKENS)
    yours = encoder.word_attention(words, max_tokens=MAX_ATTENTION_TOKENS)
    if corpus.shape[0] < layer or corpus.shape[1] < head:  # the scores are the bundled MiniLM's
        raise ValueError(
            f"This encoder has {corpus.shape[0]} layers of {corpus.shape[1]} heads; the scores are MiniLM's."
        )
    scores = asset("syntax_heads")["relations"][relation]
    return HeadOnSentences(
        relation=relation,
        direction=direction,
        layer=layer,
        head=head,
        grid=np.asarray(scores[direction]),
        count=scores["count"],
        baseline=scores["baseline"],
        example=sentence,
        example_attention=corpus[layer - 1, head - 1],
        your_words=words,
        your_attention=yours[layer - 1, head - 1],
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


def grid_figure(r: HeadOnSentences) -> dict:
    percent = r.grid * 100
    spec = fg.heatmap(
        percent,
        [f"layer {i + 1}" for i in range(LAYERS)],
        [f"head {j + 1}" for j in range(HEADS)],
        title=f"{r.relation} ({DIRECTIONS[r.direction]}): % of {r.count:,} EWT dev dependents whose gold head "
        f"each head finds; best offset {r.baseline['offset']:+d} finds {r.baseline['accuracy'] * 100:.1f} %",
        cell_format=".0f",
        hover="%{y}, %{x}: %{z:.1f} %",
        zmin=0,
        zmax=100,
        cell_px=30,
    )
    spec["layout"]["shapes"] = spec["layout"].get("shapes", []) + [
        dict(type="rect", x0=r.head - 1.5, x1=r.head - 0.5, y0=r.layer - 1.5, y1=r.layer - 0.5,
             line=dict(color="#b35806", width=3))
    ]  # fmt: skip
    return spec


def best_table() -> pd.DataFrame:
    """The best head per relation against its baseline and, where Clark et al. report it, BERT-base's."""
    rows = []
    for b in best_heads():
        clark = CLARK_BERT_BASE.get(b.relation)
        rows.append([
            b.relation, b.count, f"L{b.layer}H{b.head}", DIRECTIONS[b.direction], round(b.accuracy * 100, 1),
            f"{b.baseline_offset:+d}", round(b.baseline * 100, 1), round((b.accuracy - b.baseline) * 100, 1),
            f"{clark[0]} vs {clark[1]}" if clark else "",
        ])  # fmt: skip
    return pd.DataFrame(
        rows,
        columns=["relation", "dependents", "best head", "direction", "head %", "offset", "offset %", "gain (points)",
                 "BERT-base head vs offset % (Clark et al., PTB)"],
    )  # fmt: skip


def attention_figure(words: list[str], attention: np.ndarray, title: str, gold: dict | None = None) -> dict:
    """The head's word-level attention (row = from, column = to), its pick per row circled, and
    the gold arcs (dependent's row, head's column) marked with a ring where known."""
    labels = fg.numbered(words)
    spec = fg.heatmap(
        attention,
        labels,
        labels,
        title=title,
        x_title="attended word (key)",
        y_title="attending word (query)",
        zmin=0,
        zmax=float(max(attention.max(), 1e-9)),
        hover="%{y} → %{x}: %{z:.3f}",
        cell_px=22 if len(words) <= 24 else 12,
    )
    if gold is not None:
        arcs = [(i, h) for i, h in enumerate(gold["heads"]) if h >= 0]
        spec["data"].append(
            dict(type="scatter", mode="markers", x=[h for _, h in arcs], y=[i for i, _ in arcs],
                 marker=dict(symbol="circle-open", size=16, color="#b35806", line=dict(width=2)),
                 name="ring: the gold head of the row's word",
                 text=[fg.label(gold["relations"][i]) for i, _ in arcs],
                 hovertemplate="gold: %{text}<extra></extra>")
        )  # fmt: skip
        spec["layout"]["showlegend"] = True
        spec["layout"]["legend"] = dict(orientation="h", y=-0.2)
    return spec


def figures(r: HeadOnSentences) -> dict:
    attention = r.example_attention
    gold = r.example
    finds = [(i, h) for i, (h, rel) in enumerate(zip(gold["heads"], gold["relations"], strict=True))
             if rel == r.relation and h >= 0]  # fmt: skip
    picks = pointed(attention, r.direction)
    right = sum(int(picks[i] == h) for i, h in finds)
    name = f"layer {r.layer}, head {r.head}"
    return {
        "status": (
            f"{name}: {r.grid[r.layer - 1, r.head - 1] * 100:.1f} % of EWT dev's {r.relation} dependents "
            f"({DIRECTIONS[r.direction]}); on this corpus sentence it finds {right} of its {len(finds)} "
            f"{r.relation} arcs. Computed in {r.run.seconds * 1000:.0f} ms on {r.run.device}."
        ),
        "grid": grid_figure(r),
        "best": best_table(),
        "corpus_sentence": attention_figure(gold["words"], attention, f"{name} on an EWT dev sentence", gold),
        "your_sentence": attention_figure(r.your_words, r.your_attention, f"{name} on your sentence"),
    }


def show(text, relation, direction, layer, head, example, *, encoder) -> dict:
    """/corpus_syntax_heads: relation, direction (dep_to_head | head_to_dep), layer and head
    (1-based), corpus sentence # -> the relation's accuracy per head, the best head per relation
    against its baseline, and the head on a corpus sentence (gold arcs marked) and on yours."""
    r = analyze(text, relation, direction, layer, head, example, encoder)
    return {**figures(r), "result": r}


def write_exports(r: HeadOnSentences, folder: Path | None = None) -> list[str]:
    """best_heads.csv (every relation) and <relation>_<direction>.csv (the layers x heads grid, %)."""
    folder = Path(folder or request_folder("syntax_heads"))
    best = folder / "best_heads.csv"
    best_table().to_csv(best, index=False, encoding="utf-8")
    grid = folder / f"{r.relation}_{r.direction}.csv"
    pd.DataFrame(
        np.round(r.grid * 100, 2),
        index=pd.Index([f"layer {i + 1}" for i in range(LAYERS)], name="layer \\ head"),
        columns=[f"head {j + 1}" for j in range(HEADS)],
    ).to_csv(grid, encoding="utf-8")
    return [str(best), str(grid)]


def inputs() -> dict:
    det = default_example("")
    with gr.Column():
        with gr.Row():
            relation = gr.Dropdown(relation_choices(), value="det", label="Relation (UD, EWT dev)",
                                   elem_id="syntax-relation")  # fmt: skip
            direction = gr.Radio(
                [(label, key) for key, label in DIRECTIONS.items()],
                value=det["direction"],
                label="Direction",
                elem_id="syntax-direction",
            )
        with gr.Row():
            layer = gr.Slider(1, LAYERS, value=det["layer"], step=1, label="Layer", elem_id="syntax-layer")
            head = gr.Slider(1, HEADS, value=det["head"], step=1, label="Head", elem_id="syntax-head")
            example = gr.Slider(0, len(examples()) - 1, value=0, step=1, label="Corpus sentence #",
                                elem_id="syntax-example")  # fmt: skip
        to_best = gr.Button("Go to this relation's best head", size="sm", elem_id="syntax-to-best")
    # The sliders move to the relation's best head (no model work), then the section reruns on them
    # (its button, pressed in the browser once the sliders hold the new values). Not on the
    # relation's own change: a deep link that names a relation and a head must keep its head.
    to_best.click(best_of, [relation], [direction, layer, head], api_name=False, show_progress="hidden").then(
        None, None, None, js=f"() => document.getElementById('{API_NAME}-button').click()"
    )
    return {"relation": relation, "direction": direction, "layer": layer, "head": head, "example": example}


def best_of(relation):
    b = best_for(relation)
    if b is None:
        return gr.skip(), gr.skip(), gr.skip()
    return b.direction, b.layer, b.head


def outputs() -> dict:
    grid = gr.Plot(show_label=False, elem_id="syntax-grid")
    best = gr.Dataframe(label="The best head per relation (EWT dev) against the best fixed offset",
                        interactive=False, elem_id="syntax-best", max_height=360)  # fmt: skip
    with gr.Row():
        corpus = gr.Plot(show_label=False, elem_id="syntax-corpus-sentence")
        yours = gr.Plot(show_label=False, elem_id="syntax-your-sentence")
    return {"grid": grid, "best": best, "corpus_sentence": corpus, "your_sentence": yours}


def default_example(text: str) -> dict:
    det = best_for("det")
    return {"text": text, "relation": "det", "direction": det.direction, "layer": det.layer, "head": det.head,
            "example": 0}  # fmt: skip


def sample(tokens: int, models) -> dict:
    count = lambda t: len(models["encoder"].tokenizer(t)["input_ids"])  # noqa: E731
    return default_example(sample_text(count, tokens))


SECTION = Section(
    title="Heads that track syntax",
    api_name=API_NAME,
    models={"encoder": "encoder"},
    reads=("text",),
    inputs=("relation", "direction", "layer", "head", "example"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build_inputs=inputs,
    build_outputs=outputs,
    button="Show this head",
    intro="Clark et al. (2019) found single BERT heads that point from a word to its syntactic head far more "
    "often than position alone would. Here is the same test for this app's MiniLM, scored over UD English EWT "
    "dev (2,001 sentences): choose a relation, then a head.",
    note="syntax_heads",
    rerun_on=("relation", "direction", "layer", "head", "example"),
    export=write_exports,
    export_label="Export the best heads and this grid (CSV)",
    examples=(default_example("The old man saw a small dog in the park."),),
    limits={"text": MAX_ATTENTION_TOKENS},
    floor="models.floors:syntax_heads",
    sample=sample,
    links=(
        Param("relation", "relation", "The relation", "choice", choices=tuple(relation_choices())),
        Param("direction", "direction", "The direction", "choice", choices=tuple(DIRECTIONS)),
        Param("layer", "layer", "The layer", "int", 1, LAYERS),
        Param("head", "head", "The head", "int", 1, HEADS),
        Param("example", "example", "The corpus sentence #", "int", 0, len(examples()) - 1),
    ),
)
