"""NLI soft alignments: premise + hypothesis -> the decomposable attention model's label,
its raw alignment scores e_ij, the two softmax directions beta and alpha, and how much
each word's comparison vector adds to the chosen label.

analyze(premise, hypothesis, nli) -> AlignmentResult -> figures(result) -> the Gradio tab.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as fg
from .exports import request_folder
from .limits import MAX_NLI_PIECES, clean_text
from .serving import each_checked

EXAMPLES = Path(__file__).resolve().parent.parent / "assets" / "examples" / "nli_pairs.json"
LABEL_COLORS = {"entailment": "#2a9d8f", "neutral": "#adb5bd", "contradiction": "#e76f51"}


@dataclass
class AlignmentResult:
    """One premise/hypothesis pair (m premise words, n hypothesis words; word 0 of each is
    the NULL word "∅" that a word without counterpart can align to).

    premise_tokens: list[str] (m); hypothesis_tokens: list[str] (n)
    labels: list[str]; probs: float[len(labels)], sums to 1; label: labels[argmax probs]
    alignment: float[m, n], raw scores e_ij = F(a_i)ᵀ F(b_j)
    premise_to_hypothesis: float[m, n], beta weights softmax_j(e_ij), rows sum to 1
    hypothesis_to_premise: float[n, m], alpha weights softmax_i(e_ij), rows sum to 1
    premise_contribution: float[m], hypothesis_contribution: float[n]: drop of the chosen
        label's score when that word's comparison vector leaves the aggregate sum
    """

    premise: str
    hypothesis: str
    premise_tokens: list[str]
    hypothesis_tokens: list[str]
    labels: list[str]
    probs: np.ndarray
    label: str
    alignment: np.ndarray
    premise_to_hypothesis: np.ndarray
    hypothesis_to_premise: np.ndarray
    premise_contribution: np.ndarray
    hypothesis_contribution: np.ndarray
    device: str
    seconds: float
    batch: int = 1  # pairs inferred in the same forward (dynamic batching of API requests)


def analyze(premise: str, hypothesis: str, nli=None) -> AlignmentResult:
    result = analyze_many([(premise, hypothesis)], nli)[0]
    if isinstance(result, ValueError):
        raise result
    return result


def analyze_many(pairs: list[tuple[str, str]], nli=None) -> list[AlignmentResult | ValueError]:
    """Several (premise, hypothesis) pairs in one forward of the model (the API's dynamic
    batching). A pair that fails its checks gets its ValueError in its place."""
    from models import registry

    start = time.perf_counter()
    nli = nli or registry.nli()

    def check(pair: tuple[str, str]) -> tuple[str, str]:
        premise, hypothesis = clean_text(pair[0], "The premise").strip(), clean_text(pair[1], "The hypothesis").strip()
        for text, what in ((premise, "The premise"), (hypothesis, "The hypothesis")):
            pieces = nli.count_pieces(text)
            if pieces > MAX_NLI_PIECES:
                raise ValueError(f"{what} has {pieces} word pieces; the limit is {MAX_NLI_PIECES}.")
        return premise, hypothesis

    inferred, together = each_checked(pairs, check, lambda good: list(zip(good, nli.infer_many(good))))
    seconds = time.perf_counter() - start
    results: list[AlignmentResult | ValueError] = []
    for item in inferred:
        if isinstance(item, ValueError):
            results.append(item)
            continue
        (premise, hypothesis), r = item
        probs = np.array([r.probs[label] for label in r.labels])
        results.append(AlignmentResult(premise, hypothesis, r.premise_tokens, r.hypothesis_tokens, r.labels, probs, r.label,
                                       r.alignment, r.premise_to_hypothesis, r.hypothesis_to_premise,
                                       r.premise_contribution, r.hypothesis_contribution, str(nli.device), seconds,
                                       together))
    return results


def numbered(tokens: list[str]) -> list[str]:
    return [f"{i}: {t}" for i, t in enumerate(tokens)]


def alignment_figure(r: AlignmentResult):
    bound = float(np.abs(r.alignment).max()) or 1.0  # symmetric colours: 0 is white
    return fg.heatmap(r.alignment, numbered(r.premise_tokens), numbered(r.hypothesis_tokens),
                      title="Attend: raw scores e<sub>ij</sub> = F(a<sub>i</sub>)ᵀF(b<sub>j</sub>)",
                      x_title="hypothesis word j", y_title="premise word i", colorscale="RdBu_r", zmin=-bound, zmax=bound,
                      cell_format=".3~g", hover="e = %{z:.3f}")  # 3 significant digits: e spans 0.01 to 100


def beta_figure(r: AlignmentResult):
    return fg.heatmap(r.premise_to_hypothesis, numbered(r.premise_tokens), numbered(r.hypothesis_tokens),
                      title="β: premise → hypothesis, softmax over j",
                      x_title="hypothesis word j", y_title="premise word i", zmin=0, zmax=1,
                      cell_format=".2f", hover="softmax_j = %{z:.3f}")


def alpha_figure(r: AlignmentResult):
    return fg.heatmap(r.hypothesis_to_premise, numbered(r.hypothesis_tokens), numbered(r.premise_tokens),
                      title="α: hypothesis → premise, softmax over i",
                      x_title="premise word i", y_title="hypothesis word j", colorscale="Oranges", zmin=0, zmax=1,
                      cell_format=".2f", hover="softmax_i = %{z:.3f}")


def probs_figure(r: AlignmentResult):
    return fg.bar(r.probs, r.labels, title=f"P(label): {r.label}", x_title="probability",
                  colors=[LABEL_COLORS.get(label, "#888888") for label in r.labels])


def contribution_figure(r: AlignmentResult):
    names = [f"P{i}: {t}" for i, t in enumerate(r.premise_tokens)] + [f"H{j}: {t}" for j, t in enumerate(r.hypothesis_tokens)]
    drops = np.concatenate([r.premise_contribution, r.hypothesis_contribution])
    fig = fg.bar(drops, names, x_title=f"score of '{r.label}' lost without this word's comparison vector",
                 title=f"What each word's v adds to '{r.label}'",
                 colors=["#2a9d8f" if d >= 0 else "#e76f51" for d in drops])
    return fig


def hard_alignment(r: AlignmentResult) -> pd.DataFrame:
    """Per word: its argmax partner (the hard alignment) next to how soft the real one is."""
    rows = []
    for side, tokens, other, weights, drops in (("premise", r.premise_tokens, r.hypothesis_tokens, r.premise_to_hypothesis, r.premise_contribution),
                                                ("hypothesis", r.hypothesis_tokens, r.premise_tokens, r.hypothesis_to_premise, r.hypothesis_contribution)):
        for i, tok in enumerate(tokens):
            j = int(weights[i].argmax())
            rows.append({"side": side, "#": i, "word": tok, "aligned to (argmax)": f"{j}: {other[j]}",
                         "weight": round(float(weights[i, j]), 3), f"adds to '{r.label}'": round(float(drops[i]), 3)})
    return pd.DataFrame(rows)


def write_csvs(r: AlignmentResult, folder: Path | None = None) -> list[str]:
    """Each matrix as CSV with word labels (row/column 0 is the NULL word); returns the paths."""
    folder = Path(folder or request_folder("nli"))
    tables = {"alignment_e.csv": (r.alignment, r.premise_tokens, r.hypothesis_tokens),
              "beta_premise_to_hypothesis.csv": (r.premise_to_hypothesis, r.premise_tokens, r.hypothesis_tokens),
              "alpha_hypothesis_to_premise.csv": (r.hypothesis_to_premise, r.hypothesis_tokens, r.premise_tokens)}
    paths = []
    for name, (z, rows, cols) in tables.items():
        path = folder / name
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["row \\ column"] + numbered(cols))
            for label, row in zip(numbered(rows), z):
                w.writerow([label] + [f"{v:.6g}" for v in row])
        paths.append(str(path))
    return paths


def summary(r: AlignmentResult) -> str:
    probs = ", ".join(f"{label} {p:.3f}" for label, p in zip(r.labels, r.probs))
    return (f"**{fg.label(r.label)}** ({probs}). {len(r.premise_tokens) - 1} premise words × "
            f"{len(r.hypothesis_tokens) - 1} hypothesis words (+ the NULL word ∅ on each side), "
            f"{r.seconds * 1000:.0f} ms on {r.device}" + (f", one forward for {r.batch} queued requests." if r.batch > 1 else "."))


def figures(r: AlignmentResult) -> dict:
    return {"summary": summary(r), "probs": probs_figure(r), "alignment": alignment_figure(r), "beta": beta_figure(r),
            "alpha": alpha_figure(r), "contribution": contribution_figure(r), "hard": hard_alignment(r)}


def examples() -> list[tuple[list[str], str]]:
    """([premise, hypothesis], caption) pairs from assets/examples/nli_pairs.json."""
    from models.text import read_json

    data = read_json(EXAMPLES)
    return [([e["premise"], e["hypothesis"]], f"{e['source']}, gold {e['gold']}: {e['note']}") for e in data["pairs"]]


# -- the Gradio tab -------------------------------------------------------------------
def tab():
    """Build the NLI alignment tab inside the current gr.Blocks; returns the load event's pieces."""
    import gradio as gr

    from .limits import input_label
    from .ui import batched, listen, live, plot, teaching_note, user_errors

    def render(r: AlignmentResult, *_inputs):
        f = figures(r)
        return (f["summary"], plot(f["probs"]), plot(f["alignment"]), plot(f["beta"]), plot(f["alpha"]),
                plot(f["contribution"]), f["hard"], None, r)

    @user_errors
    def export(r: AlignmentResult | None):
        if r is None:
            raise ValueError("Type a premise and a hypothesis first.")
        return write_csvs(r)

    @user_errors
    def run(premise: str, hypothesis: str):
        return render(analyze(premise, hypothesis))

    pairs = examples()
    with gr.Row():
        with gr.Column(scale=3):
            premise = gr.Textbox(value=pairs[0][0][0], lines=2, elem_id="nli-premise",
                                 **input_label("Premise", pieces=MAX_NLI_PIECES))
            hypothesis = gr.Textbox(value=pairs[0][0][1], lines=2, elem_id="nli-hypothesis",
                                    **input_label("Hypothesis", pieces=MAX_NLI_PIECES))
            gr.Examples([p for p, _ in pairs], inputs=[premise, hypothesis], example_labels=[c for _, c in pairs],
                        examples_per_page=12)
        with gr.Column(scale=2):
            teaching_note("nli")
    status = gr.Markdown(elem_id="nli-status")
    with gr.Row():
        probs = gr.Plot(show_label=False, elem_id="nli-probs")
        contribution = gr.Plot(show_label=False, elem_id="nli-contribution")
    alignment = gr.Plot(show_label=False, elem_id="nli-alignment")
    with gr.Row():
        beta = gr.Plot(show_label=False, elem_id="nli-beta")
        alpha = gr.Plot(show_label=False, elem_id="nli-alpha")
    hard = gr.Dataframe(label="Hard alignment: each word's most-weighted partner, and how much weight the argmax gets",
                        wrap=True, elem_id="nli-hard")
    with gr.Accordion("Export", open=False):
        # On request only: the view reruns on every keystroke, and files cost the most of its answer.
        export_button = gr.Button("Export the matrices e, β, α as CSV (row and column 0 are the NULL word ∅)",
                                  elem_id="nli-export")
        files = gr.File(label="Matrices as CSV. PNG: the camera icon above each chart", file_count="multiple",
                        elem_id="nli-files")
    result = gr.State()
    outputs = [status, probs, alignment, beta, alpha, contribution, hard, files, result]
    listen(premise, run, [premise, hypothesis], outputs, status, api_name="nli",
           run_batch=batched(analyze_many, render, outputs, status))
    export_button.click(export, [result], [files], api_name="nli_export")
    run_live = live(run, outputs, status)
    hypothesis.change(run_live, [premise, hypothesis], outputs, api_name=False, trigger_mode="always_last",
                      show_progress="minimal")
    return run_live, [premise, hypothesis], outputs
