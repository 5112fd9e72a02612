"""Head ablation with a live effect: all-MiniLM-L6-v2's sentence similarity (cosine of the two
sentences' mean-pooled, normalized last states), with one head, a whole layer or a chosen set of
heads switched off (their slice of the context layer set to 0), and every head's importance.

analyze(text, text_b, switch_off, layer, head, heads, encoder) -> AblationResult, and
importance(text, text_b, encoder) -> ImportanceResult -> figures -> SECTION and IMPORTANCE_SECTION,
parts of the Self-attention tab (endpoints /self_attention_ablation, /self_attention_head_importance).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import RunInfo, Section
from explorer.core import figures as fg
from explorer.core.limits import MAX_ABLATION_PIECES, MAX_HEAD_LIST, check_whole, clean_text
from explorer.core.samples import sample_pair
from explorer.web.exports import request_folder
from models.runtime import MINILM_SHAPE

MODES = ("the head on the sliders", "the whole layer on the slider", "the heads listed")
MAX_LISTED = MINILM_SHAPE["layers"] * MINILM_SHAPE["heads"]  # every head of the bundled encoder


@dataclass(frozen=True, kw_only=True)
class AblationResult:
    """similarity: cosine of the pair with every head on; ablated: with `heads` switched off;
    heads: list of 0-based (layer, head); what: the choice in words."""

    similarity: float
    ablated: float
    heads: list[tuple[int, int]]
    what: str
    run: RunInfo


@dataclass(frozen=True, kw_only=True)
class ImportanceResult:
    """similarity: with every head on; without: float[L, H], the similarity with that head alone
    switched off (importance = without - similarity)."""

    similarity: float
    without: np.ndarray
    run: RunInfo

    @property
    def change(self) -> np.ndarray:
        return self.without - self.similarity


def read_pair(text: str, text_b: str) -> tuple[str, str]:
    if not (text_b and str(text_b).strip()):
        raise ValueError(
            "Head ablation compares two sentences: type sentence B above. The similarity is the cosine of "
            "the two sentences' embeddings, each read on its own."
        )
    return clean_text(text, "Sentence A").strip(), clean_text(text_b, "Sentence B").strip()


def parse_heads(listed: str, layers: int, heads: int) -> list[tuple[int, int]]:
    """'3.4, 5.1' (1-based layer.head) -> [(2, 3), (4, 0)]; ValueError saying what is allowed."""
    if listed is not None and not isinstance(listed, str):
        raise ValueError(f"The heads listed must be text such as 3.4, 5.1, got {type(listed).__name__}.")
    if len(listed or "") > MAX_HEAD_LIST:
        raise ValueError(f"The list of heads has {len(listed)} characters; the limit is {MAX_HEAD_LIST}.")
    found = re.findall(r"[^\s,;]+", listed or "")
    if not found:
        raise ValueError("List the heads to switch off as layer.head, e.g. 3.4, 5.1 (1-based).")
    if len(found) > MAX_LISTED:
        raise ValueError(f"{len(found)} heads listed; the model has {MAX_LISTED}.")
    out = []
    for item in found:
        match = re.fullmatch(r"(\d+)\.(\d+)", item)
        if not match or not (1 <= int(match[1]) <= layers and 1 <= int(match[2]) <= heads):
            raise ValueError(
                f"{item[:20]!r} is not a head: write layer.head with layers 1-{layers} and heads 1-{heads}, e.g. 3.4."
            )
        out.append((int(match[1]) - 1, int(match[2]) - 1))
    return sorted(set(out))


def chosen_heads(switch_off: str, layer, head, listed: str, encoder) -> tuple[list[tuple[int, int]], str]:
    if switch_off not in MODES:
        raise ValueError(f"Switch off one of: {', '.join(MODES)}.")
    layer = check_whole(layer, 1, encoder.layers, "Layer")
    head = check_whole(head, 1, encoder.heads, "Head")
    if switch_off == MODES[0]:
        return [(layer - 1, head - 1)], f"head {layer}.{head}"
    if switch_off == MODES[1]:
        return [(layer - 1, h) for h in range(encoder.heads)], f"all {encoder.heads} heads of layer {layer}"
    heads = parse_heads(listed, encoder.layers, encoder.heads)
    return heads, f"{len(heads)} listed head{'s' if len(heads) != 1 else ''}"


def analyze(text, text_b, switch_off, layer, head, listed, encoder) -> AblationResult:
    a, b = read_pair(text, text_b)
    heads, what = chosen_heads(switch_off, layer, head, listed, encoder)
    start = time.perf_counter()
    sims = encoder.similarities(a, b, [[], heads], max_tokens=MAX_ABLATION_PIECES)  # one batch of 2 x 2 rows
    return AblationResult(
        similarity=float(sims[0]),
        ablated=float(sims[1]),
        heads=heads,
        what=what,
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


def importance(text, text_b, encoder) -> ImportanceResult:
    a, b = read_pair(text, text_b)
    start = time.perf_counter()
    similarity, without = encoder.head_importance(a, b, max_tokens=MAX_ABLATION_PIECES)
    return ImportanceResult(
        similarity=similarity,
        without=without,
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


# -- figures -------------------------------------------------------------------------------------
def similarity_text(r: AblationResult) -> str:
    listed = ", ".join(f"{l + 1}.{h + 1}" for l, h in r.heads)
    return (
        f"**Similarity {r.similarity:.4f}** with every head on → **{r.ablated:.4f}** with {r.what} switched off "
        f"(change {r.ablated - r.similarity:+.4f}; off: {listed}). One batch of 2 × 2 sentences, "
        f"{r.run.seconds * 1000:.0f} ms on {r.run.device}."
    )


def importance_figure(r: ImportanceResult) -> dict:
    change = r.change
    L, H = change.shape
    bound = float(np.abs(change).max()) or 1e-9
    return fg.heatmap(
        change,
        [f"layer {l + 1}" for l in range(L)],
        [f"head {h + 1}" for h in range(H)],
        title=f"Similarity change when one head alone is switched off (with all on: {r.similarity:.4f})",
        colorscale="RdBu_r",
        zmin=-bound,
        zmax=bound,
        cell_text=np.vectorize(lambda v: f"{v:+.3f}")(change),
        hover="change %{z:.4f}",
        cell_px=40,
    )


def importance_table(r: ImportanceResult) -> pd.DataFrame:
    """One row per head, the largest |change| first."""
    L, H = r.without.shape
    frame = pd.DataFrame(
        {
            "layer": np.repeat(np.arange(1, L + 1), H),
            "head": np.tile(np.arange(1, H + 1), L),
            "similarity without it": np.round(r.without.ravel(), 4),
            "change": np.round(r.change.ravel(), 4),
        }
    )
    return frame.iloc[np.argsort(-np.abs(r.change.ravel()), kind="stable")].reset_index(drop=True)


def importance_status(r: ImportanceResult) -> str:
    L, H = r.without.shape
    return (
        f"Similarity with every head on: **{r.similarity:.4f}**. {L * H} ablations + the unablated pair in one "
        f"batch of {2 * (L * H + 1)} sentences: {r.run.seconds:.2f} s on {r.run.device}."
    )


def write_exports(r: ImportanceResult, folder: Path | None = None) -> list[str]:
    folder = Path(folder or request_folder("ablation"))
    csv_path = folder / "head_importance.csv"
    importance_table(r).to_csv(csv_path, index=False, encoding="utf-8")
    json_path = folder / "head_importance.json"
    payload = {
        "similarity": r.similarity,
        "axes": ["layer (0-based)", "head (0-based)"],
        "similarity_without_head": r.without.tolist(),
        "change": r.change.tolist(),
    }
    json_path.write_text(json.dumps(payload, separators=(",", ":")), encoding="utf-8")
    return [str(csv_path), str(json_path)]


# -- endpoints and the section ------------------------------------------------------------------------
def show(text, text_b, layer, head, switch_off, listed, *, encoder) -> dict:
    """/self_attention_ablation: the pair, 1-based layer and head, what to switch off (MODES), the
    listed heads ('3.4, 5.1') -> the similarity before and after."""
    r = analyze(text, text_b, switch_off, layer, head, listed, encoder)
    return {"status": similarity_text(r), "result": r}


def show_importance(text, text_b, *, encoder) -> dict:
    """/self_attention_head_importance: the pair -> every head's importance (figure, table)."""
    r = importance(text, text_b, encoder)
    return {
        "status": importance_status(r),
        "importance": importance_figure(r),
        "table": importance_table(r),
        "result": r,
    }


def what_to_switch_off() -> dict:
    return {
        "switch_off": gr.Radio(list(MODES), value=MODES[0], label="Switch off", elem_id="ablation-mode"),
        "listed": gr.Textbox("3.4, 5.1", label=f"Heads listed (layer.head, 1-based; ≤ {MAX_HEAD_LIST} characters)",
                             max_lines=1, max_length=MAX_HEAD_LIST, elem_id="ablation-heads"),
    }  # fmt: skip


def importance_outputs() -> dict:
    return {
        "importance": gr.Plot(show_label=False, elem_id="importance-map"),
        "table": gr.Dataframe(label="Every head, largest change first", elem_id="importance-table", max_height=300),
    }


PAIR = {"text": "A man is playing a guitar on stage.", "text_b": "Someone performs music for a crowd."}

SECTION = Section(
    title="Head ablation",
    api_name="self_attention_ablation",
    models={"encoder": "encoder"},
    reads=("text", "text_b", "layer", "head"),
    inputs=("switch_off", "listed"),
    handler=show,
    analyze=analyze,
    figures=lambda r: {"status": similarity_text(r)},
    build_inputs=what_to_switch_off,
    build_outputs=dict,
    button="Switch off and compare",
    intro="all-MiniLM-L6-v2 was trained for sentence similarity. Type **sentence B** above; switch heads off and "
    f"watch the similarity of the two sentences change (≤ {MAX_ABLATION_PIECES} word pieces each).",
    note="ablation",
    rerun_on=("switch_off",),
    examples=({**PAIR, "layer": 1, "head": 1, "switch_off": MODES[0], "listed": "3.4, 5.1"},),
    limits={"text": MAX_ABLATION_PIECES, "text_b": MAX_ABLATION_PIECES, "listed": MAX_HEAD_LIST},
    floor="models.floors:ablation",
    sample=lambda tokens, models: {
        **sample_pair(tokens, models),
        "layer": 2,
        "head": 1,
        "switch_off": MODES[1],
        "listed": "",
    },  # fmt: skip
)

IMPORTANCE_SECTION = Section(
    title="Head importance",
    api_name="self_attention_head_importance",
    models={"encoder": "encoder"},
    reads=("text", "text_b"),
    handler=show_importance,
    analyze=importance,
    figures=lambda r: {
        "status": importance_status(r),
        "importance": importance_figure(r),
        "table": importance_table(r),
    },  # fmt: skip
    build_outputs=importance_outputs,
    button=f"Importance of every head ({MAX_LISTED} ablations, one batch)",
    intro="Each head switched off alone: how much the similarity of sentence A and sentence B changes.",
    note="ablation",
    export=write_exports,
    export_label="Export the importance table (CSV, JSON)",
    examples=(PAIR,),
    limits={"text": MAX_ABLATION_PIECES, "text_b": MAX_ABLATION_PIECES},
    floor="models.floors:head_importance",
    sample=sample_pair,
)
