"""NLI soft alignments: premise + hypothesis -> the decomposable attention model's label,
its raw alignment scores e_ij, the two softmax directions beta and alpha, and how much
each word's comparison vector adds to the chosen label.

analyze(premise, hypothesis, nli) -> NLIAnalysis -> figures(result), and the handlers of the
tab's endpoints (show, show_many, export); the tab is tab.py.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.contract import RunInfo
from explorer.core import figures as fg
from explorer.core.limits import MAX_NLI_PIECES, clean_text
from explorer.core.plural import plural
from explorer.web.exports import request_folder
from explorer.web.serving import each_checked

EXAMPLES = Path(__file__).resolve().parents[3] / "assets" / "examples" / "nli_pairs.json"
# Okabe-Ito blue / grey / vermillion: told apart by colour-blind eyes too (no red vs green).
LABEL_COLORS = {"entailment": "#0072b2", "neutral": "#999999", "contradiction": "#d55e00"}


@dataclass(frozen=True, kw_only=True)
class NLIAnalysis:
    """One premise/hypothesis pair through the model.

    inferred: models.nli.NLIResult (m premise words, n hypothesis words; word 0 of each is the
        NULL word "∅" a word without counterpart can align to): label, probs, alignment
        float[m, n] raw scores e_ij, premise_to_hypothesis float[m, n] (beta weights, rows sum
        to 1), hypothesis_to_premise float[n, m] (alpha weights, rows sum to 1), and the
        premise_contribution [m] / hypothesis_contribution [n] of each word to the label
    """

    premise: str
    hypothesis: str
    inferred: object
    run: RunInfo

    @property
    def probs(self) -> np.ndarray:
        """float[len(labels)] in the order of inferred.labels; sums to 1."""
        return np.array([self.inferred.probs[label] for label in self.inferred.labels])


def read(pair: tuple[str, str], nli) -> tuple:
    """A request's premise and hypothesis, cleaned, tokenized and checked once each."""
    return tuple(
        nli.read(clean_text(text, what).strip(), what, MAX_NLI_PIECES)
        for text, what in zip(pair, ("The premise", "The hypothesis"))
    )


def analyze(premise: str, hypothesis: str, nli) -> NLIAnalysis:
    result = analyze_many([(premise, hypothesis)], nli)[0]
    if isinstance(result, ValueError):
        raise result
    return result


def analyze_many(pairs: list[tuple[str, str]], nli) -> list[NLIAnalysis | ValueError]:
    """Several (premise, hypothesis) pairs in one forward of the model (the API's dynamic
    batching). A pair that fails its checks gets its ValueError in its place."""
    start = time.perf_counter()
    inferred, together = each_checked(pairs, lambda pair: read(pair, nli), nli.infer_many)
    run = RunInfo(device=str(nli.device), seconds=time.perf_counter() - start, batch=together)
    return [
        r
        if isinstance(r, ValueError)
        else NLIAnalysis(premise=" ".join(pair[0].split()), hypothesis=" ".join(pair[1].split()), inferred=r, run=run)
        for pair, r in zip(pairs, inferred)
    ]


def alignment_figure(r: NLIAnalysis):
    bound = float(np.abs(r.inferred.alignment).max()) or 1.0  # symmetric colours: 0 is white
    return fg.heatmap(
        r.inferred.alignment,
        fg.numbered(r.inferred.premise_tokens),
        fg.numbered(r.inferred.hypothesis_tokens),
        title="Attend: raw scores e<sub>ij</sub> = F(a<sub>i</sub>)ᵀF(b<sub>j</sub>)",
        x_title="hypothesis word j",
        y_title="premise word i",
        colorscale="RdBu_r",
        zmin=-bound,
        zmax=bound,
        cell_format=".3~g",
        hover="e = %{z:.3f}",
    )  # 3 significant digits: e spans 0.01 to 100


def own_range(weights: np.ndarray) -> tuple[float, float]:
    """The colour range of a weight map: its own min and max, so a flat-looking map (weights
    0.07-0.23) still shows where its alignment is; the title states the range."""
    low, high = float(weights.min()), float(weights.max())
    return (low, high) if high > low else (0.0, max(high, 1e-9))


def weights_figure(
    weights: np.ndarray,
    rows: list[str],
    columns: list[str],
    *,
    title: str,
    row_axis: str,
    column_axis: str,
    over: str,
    colorscale: str,
) -> dict:
    """A softmax weight map (rows sum to 1), coloured over its own range, which the title states."""
    low, high = own_range(weights)
    return fg.heatmap(
        weights,
        fg.numbered(rows),
        fg.numbered(columns),
        title=f"{title} (colours span {low:.2f}–{high:.2f})",
        x_title=column_axis,
        y_title=row_axis,
        colorscale=colorscale,
        zmin=low,
        zmax=high,
        cell_format=".2f",
        hover=f"softmax_{over} = %{{z:.3f}}",
    )


def beta_figure(r: NLIAnalysis):
    t = r.inferred
    return weights_figure(
        t.premise_to_hypothesis,
        t.premise_tokens,
        t.hypothesis_tokens,
        title="β: premise → hypothesis, softmax over j",
        row_axis="premise word i",
        column_axis="hypothesis word j",
        over="j",
        colorscale="Blues",
    )


def alpha_figure(r: NLIAnalysis):
    t = r.inferred
    return weights_figure(
        t.hypothesis_to_premise,
        t.hypothesis_tokens,
        t.premise_tokens,
        title="α: hypothesis → premise, softmax over i",
        row_axis="hypothesis word j",
        column_axis="premise word i",
        over="i",
        colorscale="Oranges",
    )


def probs_figure(r: NLIAnalysis):
    return fg.bar(
        r.probs,
        r.inferred.labels,
        title=f"P(label): {r.inferred.label}",
        x_title="probability",
        colors=[LABEL_COLORS.get(label, "#888888") for label in r.inferred.labels],
    )


def contribution_figure(r: NLIAnalysis):
    names = [f"P{i}: {t}" for i, t in enumerate(r.inferred.premise_tokens)] + [
        f"H{j}: {t}" for j, t in enumerate(r.inferred.hypothesis_tokens)
    ]
    drops = np.concatenate([r.inferred.premise_contribution, r.inferred.hypothesis_contribution])
    fig = fg.bar(
        drops,
        names,
        x_title=f"score of '{r.inferred.label}' lost without this word's comparison vector",
        title=f"What each word's v adds to '{r.inferred.label}'",
        colors=[LABEL_COLORS["entailment"] if d >= 0 else LABEL_COLORS["contradiction"] for d in drops],
    )
    return fig


def hard_alignment(r: NLIAnalysis) -> pd.DataFrame:
    """Per word: its argmax partner (the hard alignment) next to how soft the real one is."""
    rows = []
    for side, tokens, other, weights, drops in (
        (
            "premise",
            r.inferred.premise_tokens,
            r.inferred.hypothesis_tokens,
            r.inferred.premise_to_hypothesis,
            r.inferred.premise_contribution,
        ),
        (
            "hypothesis",
            r.inferred.hypothesis_tokens,
            r.inferred.premise_tokens,
            r.inferred.hypothesis_to_premise,
            r.inferred.hypothesis_contribution,
        ),
    ):
        for i, tok in enumerate(tokens):
            j = int(weights[i].argmax())
            rows.append(
                {
                    "side": side,
                    "#": i,
                    "word": tok,
                    "aligned to (argmax)": f"{j}: {other[j]}",
                    "weight": round(float(weights[i, j]), 3),
                    f"adds to '{r.inferred.label}'": round(float(drops[i]), 3),
                }
            )
    return pd.DataFrame(rows)


def write_csvs(r: NLIAnalysis, folder: Path | None = None) -> list[str]:
    """Each matrix as CSV with word labels (row/column 0 is the NULL word); returns the paths."""
    folder = Path(folder or request_folder("nli"))
    tables = {
        "alignment_e.csv": (r.inferred.alignment, r.inferred.premise_tokens, r.inferred.hypothesis_tokens),
        "beta_premise_to_hypothesis.csv": (
            r.inferred.premise_to_hypothesis,
            r.inferred.premise_tokens,
            r.inferred.hypothesis_tokens,
        ),
        "alpha_hypothesis_to_premise.csv": (
            r.inferred.hypothesis_to_premise,
            r.inferred.hypothesis_tokens,
            r.inferred.premise_tokens,
        ),
    }
    paths = []
    for name, (z, rows, cols) in tables.items():
        path = folder / name
        with open(path, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["row \\ column"] + fg.numbered(cols))
            for label, row in zip(fg.numbered(rows), z):
                w.writerow([label] + [f"{v:.6g}" for v in row])
        paths.append(str(path))
    return paths


def summary(r: NLIAnalysis) -> str:
    probs = ", ".join(f"{label} {p:.3f}" for label, p in zip(r.inferred.labels, r.probs))
    return (
        f"**{fg.label(r.inferred.label)}** ({probs}). {plural(len(r.inferred.premise_tokens) - 1, 'premise word')} × "
        f"{plural(len(r.inferred.hypothesis_tokens) - 1, 'hypothesis word')} (+ the NULL word ∅ on each side), "
        f"{r.run.seconds * 1000:.0f} ms on {r.run.device}"
        + (f", one forward for {r.run.batch} queued requests." if r.run.batch > 1 else ".")
    )


def figures(r: NLIAnalysis) -> dict:
    return {
        "summary": summary(r),
        "probs": probs_figure(r),
        "alignment": alignment_figure(r),
        "beta": beta_figure(r),
        "alpha": alpha_figure(r),
        "contribution": contribution_figure(r),
        "hard": hard_alignment(r),
    }


def example_label(example: dict) -> str:
    """A short, distinct button label: the gold label and the hypothesis' start; "✗" marks a
    pair the bundled model gets wrong (the Breaking NLI failures are there to be seen)."""
    note = example.get("note", "")
    fails = bool(example.get("fails")) or "FAILURE" in note.upper() or "model said" in note
    hypothesis = example["hypothesis"]
    short = hypothesis if len(hypothesis) <= 32 else hypothesis[:30].rstrip() + "…"
    return f"{'✗ ' if fails else ''}{example['gold']}: {short}"


def examples() -> list[tuple[list[str], str]]:
    """([premise, hypothesis], label) pairs from assets/examples/nli_pairs.json."""
    data = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return [([e["premise"], e["hypothesis"]], example_label(e)) for e in data["pairs"]]


# -- the endpoints -----------------------------------------------------------
def render(r: NLIAnalysis, *_inputs) -> dict:
    """One request's outputs by name (also the batched endpoint's, per request)."""
    return {**figures(r), "status": summary(r), "files": None, "result": r}


def show(premise: str, hypothesis: str, *, nli) -> dict:
    """/nli: a premise and a hypothesis -> label, probabilities, e, β, α, contributions, by name."""
    return render(analyze(premise, hypothesis, nli))


def show_many(requests: list[tuple], *, nli) -> list:
    """/nli with dynamic batching: every queued pair in one forward."""
    return analyze_many(requests, nli)


def export(r: NLIAnalysis | None) -> dict:
    """/nli_export: the last answer's matrices as CSV."""
    if r is None:
        raise ValueError("Type a premise and a hypothesis first.")
    return {"files": write_csvs(r)}
