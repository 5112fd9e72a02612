"""Attention vs saliency: for the NLI label and for one token's tag, gradient × input and
integrated gradients per word (models/saliency.py), next to the attention-based view of the same
decision, with Spearman's rank correlation between them.

NLI: the attention each word receives from the other sentence (Σ of its column of α or β) and the
leave-one-out contribution the NLI tab shows. Tags: MiniLM's attention rollout from the token
(the tagger itself is a BiLSTM; MiniLM's attention built the vectors it reads).

analyze_nli(premise, hypothesis, nli) / analyze_tag(text, index, tagger) -> SaliencyResult ->
figures(result) -> NLI_SECTION and TAG_SECTION, sections of the NLI and Tags tabs.
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
from explorer.core.limits import MAX_NLI_PIECES, MAX_TOKENS, SALIENCY_STEPS, check_tokens, check_whole, clean_text
from explorer.core.samples import sample_hypothesis, sample_text
from explorer.web.exports import request_folder


@dataclass(frozen=True, kw_only=True)
class SaliencyResult:
    """One decision explained per word in several ways.

    decision: str, what is explained ("label 'entailment'", "tag of token 3 'flies': VERB")
    words: list[str], one per row ("P1: man", "H2: music", or "3: flies")
    columns: dict name -> float[len(words)], the per-word scores (saliency methods first)
    saliency, attention: the column names of each kind
    correlations: pd.DataFrame, Spearman's ρ (and p) between each saliency column (as |value|) and
        each attention column, and between the two saliency methods (signed)
    score, baseline_score, steps: f(x), f(0) and the integrated-gradient steps; completeness_gap:
        |Σ IG - (f(x) - f(0))|
    """

    decision: str
    words: list[str]
    columns: dict[str, np.ndarray]
    saliency: tuple[str, ...]
    attention: tuple[str, ...]
    correlations: pd.DataFrame
    score: float
    baseline_score: float
    steps: int
    completeness_gap: float
    run: RunInfo


GXI, IG = "gradient × input", f"integrated gradients ({SALIENCY_STEPS} steps)"
ATTENTION_RECEIVED, LEAVE_ONE_OUT, ROLLOUT = (
    "attention received (Σ α or β)",
    "leave-one-out",
    "MiniLM rollout from the token",
)
SHORT = {
    GXI: "grad × input",
    IG: "IG",
    ATTENTION_RECEIVED: "attention",
    LEAVE_ONE_OUT: "leave-one-out",
    ROLLOUT: "rollout",
}


def spearman(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(ρ, p); nan where a side is constant or there are fewer than 3 words."""
    from scipy.stats import spearmanr  # not at the top: 0.5 s and 60 MB for every process, used on request

    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    rho, p = spearmanr(x, y)
    return float(rho), float(p)


def correlations(columns: dict[str, np.ndarray], saliency: tuple[str, ...], attention: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for s in saliency:
        for a in attention:
            rho, p = spearman(np.abs(columns[s]), columns[a])
            rows.append({"saliency (|value|)": s, "compared with": a, "Spearman ρ": rho, "p": p})
    rho, p = spearman(columns[saliency[0]], columns[saliency[1]])
    rows.append({"saliency (|value|)": f"{saliency[0]} (signed)", "compared with": f"{saliency[1]} (signed)",
                 "Spearman ρ": rho, "p": p})  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.round({"Spearman ρ": 3, "p": 4})


def _result(decision, words, columns, saliency, attention, attribution, start, device) -> SaliencyResult:
    return SaliencyResult(
        decision=decision,
        words=words,
        columns=columns,
        saliency=saliency,
        attention=attention,
        correlations=correlations(columns, saliency, attention),
        score=attribution.score,
        baseline_score=attribution.baseline_score,
        steps=attribution.steps,
        completeness_gap=attribution.completeness_gap,
        run=RunInfo(device=device, seconds=time.perf_counter() - start),
    )


def analyze_nli(premise: str, hypothesis: str, nli) -> SaliencyResult:
    from models.saliency import nli_saliency  # not at the top: it imports torch, which `import app` must not

    p, h = (
        nli.read(clean_text(text, what).strip(), what, MAX_NLI_PIECES)
        for text, what in ((premise, "The premise"), (hypothesis, "The hypothesis"))
    )
    start = time.perf_counter()
    s = nli_saliency(nli, p, h, SALIENCY_STEPS)
    at = s.attribution
    words = [f"P{i}: {t}" for i, t in enumerate(s.premise_tokens)] + [
        f"H{j}: {t}" for j, t in enumerate(s.hypothesis_tokens)
    ]
    columns = {
        GXI: np.concatenate(at.gradient_x_input),
        IG: np.concatenate(at.integrated_gradients),
        ATTENTION_RECEIVED: np.concatenate([s.premise_attention, s.hypothesis_attention]),
        LEAVE_ONE_OUT: np.concatenate([s.premise_contribution, s.hypothesis_contribution]),
    }
    names = tuple(columns)
    return _result(f"label '{s.label}'", words, columns, names[:2], names[2:], at, start, str(nli.device))


def analyze_tag(text: str, index, tagger) -> SaliencyResult:
    from models.saliency import tag_saliency  # not at the top: it imports torch, which `import app` must not

    tokens = check_tokens(tagger.tokenize(clean_text(text, "The text")), "The text")
    index = check_whole(index, 0, MAX_TOKENS - 1, "The token #")
    if index >= len(tokens):
        raise ValueError(f"Token #{index} does not exist: the text has tokens 0-{len(tokens) - 1}.")
    start = time.perf_counter()
    s = tag_saliency(tagger, tokens, index, SALIENCY_STEPS)
    at = s.attribution
    columns = {GXI: at.gradient_x_input[0], IG: at.integrated_gradients[0]}
    attention: tuple[str, ...] = ()
    if s.rollout is not None:
        columns[ROLLOUT] = s.rollout
        attention = (ROLLOUT,)
    decision = f"tag of token {index} '{tokens[index]}': {s.tag}"
    words = [f"{i}: {t}" for i, t in enumerate(tokens)]
    names = tuple(columns)
    if not attention:  # a tagger without MiniLM vectors has no attention to compare with
        return _result(decision, words, columns, names, (), at, start, str(tagger.device))
    return _result(decision, words, columns, names[:2], attention, at, start, str(tagger.device))


# -- figures ------------------------------------------------------------------------------------
def words_figure(r: SaliencyResult) -> dict:
    """Rows = words, columns = methods; colour = the value / the column's largest |value| (so the
    columns' different units compare), the cell shows the value itself."""
    names = list(r.columns)
    z = np.stack([r.columns[n] for n in names], axis=1)  # (words, methods)
    scale = np.abs(z).max(axis=0)
    scale[scale == 0] = 1.0
    return fg.heatmap(
        z / scale,
        r.words,
        [SHORT.get(n, n) for n in names],
        title=f"Per word: the {fg.label(r.decision)}",
        x_title="colour = value ÷ its column's largest |value|",
        y_title="word",
        colorscale="RdBu_r",
        zmin=-1,
        zmax=1,
        cell_text=np.vectorize(lambda v: f"{v:.3g}")(z),
        hover="relative %{z:.2f}",
        cell_px=22,
    )


def status(r: SaliencyResult) -> str:
    return (
        f"Explaining the **{fg.markdown_text(r.decision)}** (its logit f = {r.score:.3f}; with every word vector at 0, "
        f"f = {r.baseline_score:.3f}). Integrated gradients, {r.steps} steps: Σ IG = {r.columns[IG].sum():.3f} "
        f"against f(x) − f(0) = {r.score - r.baseline_score:.3f} (completeness; the gap shrinks with more steps). "
        f"{r.run.seconds * 1000:.0f} ms on {r.run.device}."
    )


def figures(r: SaliencyResult) -> dict:
    table = pd.DataFrame({"word": r.words, **{k: np.round(v, 4) for k, v in r.columns.items()}})
    corr = r.correlations if len(r.correlations) else pd.DataFrame({"note": ["no attention view to compare"]})
    return {"status": status(r), "words": words_figure(r), "correlations": corr, "table": table}


def write_exports(r: SaliencyResult, prefix: str, folder: Path | None = None) -> list[str]:
    folder = Path(folder or request_folder(prefix))
    words = folder / f"{prefix}_per_word.csv"
    pd.DataFrame({"word": r.words, **{k: np.round(v, 6) for k, v in r.columns.items()}}).to_csv(
        words, index=False, encoding="utf-8"
    )
    corr = folder / f"{prefix}_spearman.csv"
    r.correlations.to_csv(corr, index=False, encoding="utf-8")
    return [str(words), str(corr)]


# -- endpoints and the sections --------------------------------------------------------------------
def show_nli(premise, hypothesis, *, nli) -> dict:
    """/nli_saliency: premise, hypothesis -> per-word saliency vs attention, Spearman ρ."""
    r = analyze_nli(premise, hypothesis, nli)
    return {**figures(r), "result": r}


def show_tag(text, index, *, tagger) -> dict:
    """/tag_saliency: text, 0-based token # -> per-word saliency of its tag vs MiniLM rollout, Spearman ρ."""
    r = analyze_tag(text, index, tagger)
    return {**figures(r), "result": r}


def outputs(prefix: str):
    """The section's figures: the correlations, then the per-word chart beside its table."""

    def build() -> dict:
        corr = gr.Dataframe(label="Spearman's rank correlation", wrap=True, elem_id=f"{prefix}-spearman")
        with gr.Row():
            words = gr.Plot(show_label=False, elem_id=f"{prefix}-words")
            table = gr.Dataframe(label="Per word", elem_id=f"{prefix}-table", max_height=420)
        return {"words": words, "correlations": corr, "table": table}  # the API's order

    return build


def token_slider() -> dict:
    return {"index": gr.Slider(0, MAX_TOKENS - 1, value=1, step=1, label="Token # (as in the table above)",
                               elem_id="tag-saliency-token")}  # fmt: skip


def exports_named(prefix: str):
    def write(r: SaliencyResult) -> list[str]:
        return write_exports(r, prefix)

    write.__qualname__ = f"write_{prefix.replace('-', '_')}"
    return write


def nli_pieces(models):
    return lambda text: len(models["nli"].read(text, "The sample", 10_000).ids)


HEADING = "Attention vs saliency: which words did the decision depend on?"
EXPORT_LABEL = "Export the per-word table and the correlations (CSV)"

NLI_SECTION = Section(
    title="Attention vs saliency",
    api_name="nli_saliency",
    models={"nli": "nli"},
    reads=("premise", "hypothesis"),
    handler=show_nli,
    analyze=analyze_nli,
    figures=figures,
    build_outputs=outputs("nli-saliency"),
    button="Explain the label",
    intro="Saliency of the predicted label per word (the vectors a_i, b_j the attend step reads), next to the "
    "attention each word receives and its leave-one-out contribution.",
    note="saliency_nli",
    export=exports_named("nli_saliency"),
    export_label=EXPORT_LABEL,
    examples=({"premise": "A man is playing a guitar on stage.", "hypothesis": "A man is performing music."},),
    limits={"premise": MAX_NLI_PIECES, "hypothesis": MAX_NLI_PIECES},
    floor="models.floors:nli_saliency",
    sample=lambda tokens, models: {
        "premise": sample_text(nli_pieces(models), tokens),
        "hypothesis": sample_hypothesis(nli_pieces(models), tokens),
    },
)

TAG_SECTION = Section(
    title="Attention vs saliency",
    api_name="tag_saliency",
    models={"tagger": "tagger"},
    reads=("text",),
    inputs=("index",),
    handler=show_tag,
    analyze=analyze_tag,
    figures=figures,
    build_inputs=token_slider,
    build_outputs=outputs("tag-saliency"),
    button="Explain this token's tag",
    intro="Saliency of one token's tag per word (the tagger's input vector of each word), next to MiniLM's "
    "attention rollout from that token.",
    note="saliency_tagging",
    export=exports_named("tag_saliency"),
    export_label=EXPORT_LABEL,
    examples=({"text": "Time flies like an arrow.", "index": 1},),
    limits={"text": MAX_TOKENS},
    floor="models.floors:tag_saliency",
    sample=lambda tokens, models: {
        "text": sample_text(lambda t: len(models["tagger"].tokenize(t)), tokens),
        "index": 1,
    },
    links=(Param("token", "index", "The token #", "int", 0, MAX_TOKENS - 1),),
)
