"""Attention rollout (Abnar & Zuidema 2020) next to the last layer's raw attention.

    Â_l = rows renormalized of 0.5 · mean_h A_l + 0.5 · I,   R = Â_6 ⋯ Â_1
R[i, j] is how much of the last layer's token i traces back to input token j, if attention were
the only way tokens mix and the residual kept half of each (models.inside_attention.rollout).
Attention flow (the paper's max-flow variant) is not computed: see explorer/notes/rollout.md.

analyze(text, text_b, encoder) -> RolloutResult -> figures(result) -> SECTION, a part of
the Self-attention tab (endpoint /self_attention_rollout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import RunInfo, Section
from explorer.core import figures as fg
from explorer.core.limits import MAX_ATTENTION_TOKENS, clean_text
from explorer.core.samples import encoder_pieces, sample_text
from explorer.web.exports import request_folder
from models.rollout import rollout  # numpy only: no torch is imported


@dataclass(frozen=True, kw_only=True)
class RolloutResult:
    """tokens: list[str] (T word pieces); last_layer: float[T, T], mean over heads of the last
    layer's maps; rollout: float[T, T], R, rows sum to 1; layers: how many were multiplied."""

    tokens: list[str]
    last_layer: np.ndarray
    rollout: np.ndarray
    layers: int
    run: RunInfo


def analyze(text: str, text_b: str, encoder) -> RolloutResult:
    pair = bool(text_b and str(text_b).strip())
    text = clean_text(text, "Sentence A" if pair else "The sentence")
    source = (text, clean_text(text_b, "Sentence B")) if pair else text
    start = time.perf_counter()
    a = encoder.attend(source, max_tokens=MAX_ATTENTION_TOKENS)
    return RolloutResult(
        tokens=a.tokens,
        last_layer=a.attentions[-1].mean(axis=0),
        rollout=rollout(a.attentions),
        layers=a.attentions.shape[0],
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


def _map(z: np.ndarray, tokens: list[str], title: str) -> dict:
    labels = fg.numbered(tokens)
    T = len(labels)
    return fg.heatmap(
        np.round(z, 3).astype(np.float32),
        labels,
        labels,
        title=title,
        x_title="key (input token)",
        y_title="query (last layer's token)",
        zmin=0,
        zmax=float(max(z.max(), 1e-9)),
        cell_text=np.vectorize(lambda p: f"{p:.2f}" if p >= 0.05 else "")(z) if T <= 16 else None,
        cell_px=18 if T <= 30 else 10,
    )


def figures(r: RolloutResult) -> dict:
    L = r.layers
    return {
        "status": (
            f"{len(r.tokens)} word pieces, {L} layers multiplied; computed in {r.run.seconds * 1000:.0f} ms on "
            f"{r.run.device}. Rows of R sum to 1 (largest deviation {np.abs(r.rollout.sum(1) - 1).max():.1e})."
        ),
        "last_layer": _map(r.last_layer, r.tokens, f"Layer {L} raw attention, mean over its heads"),
        "rollout": _map(r.rollout, r.tokens, f"Rollout R = Â<sub>{L}</sub> ⋯ Â<sub>1</sub> (colours span 0–max)"),
    }


def write_exports(r: RolloutResult, folder: Path | None = None) -> list[str]:
    """rollout.csv and last_layer_mean.csv: one row per query token, one column per key (6 decimals)."""
    folder = Path(folder or request_folder("rollout"))
    labels = fg.numbered(r.tokens)
    paths = []
    for name, z in (("rollout.csv", r.rollout), ("last_layer_mean.csv", r.last_layer)):
        path = folder / name
        pd.DataFrame(np.round(z, 6), index=pd.Index(labels, name="query \\ key"), columns=labels).to_csv(
            path, encoding="utf-8"
        )
        paths.append(str(path))
    return paths


def show(text, text_b, *, encoder) -> dict:
    """/self_attention_rollout: sentence (and B) -> the last layer's mean map and the rollout."""
    r = analyze(text, text_b, encoder)
    return {**figures(r), "result": r}


def maps() -> dict:
    with gr.Row():
        return {
            "last_layer": gr.Plot(show_label=False, elem_id="rollout-last"),
            "rollout": gr.Plot(show_label=False, elem_id="rollout-map"),
        }


SECTION = Section(
    title="Rollout",
    api_name="self_attention_rollout",
    models={"encoder": "encoder"},
    reads=("text", "text_b"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build_outputs=maps,
    button="Compute the rollout for the sentence above",
    note="rollout",
    export=write_exports,
    export_label="Export R and the last layer's mean map (CSV)",
    examples=({"text": "The cat sat on the mat because it was tired.", "text_b": ""},),
    limits={"text": MAX_ATTENTION_TOKENS},
    floor="models.floors:encoder",
    sample=lambda tokens, models: {"text": sample_text(encoder_pieces(models), tokens), "text_b": ""},
)
