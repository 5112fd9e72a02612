"""Where each model is wrong, over its whole test set: the section /corpus_errors of the
Across-a-corpus tab.

Precomputed by `python -m training.corpus_errors` (assets/analysis/errors_*.json): the tagger on
UD EWT test, the NLI model on SNLI test, MultiNLI mismatched and Breaking NLI, the three translators
on Multi30k test 2016. Shown: the headline score (the model card's), the confusion matrix (rows
gold, columns predicted: click a cell to list its examples) or, for a translator, the spread of its
sentence BLEU; and the errors, filtered by gold and predicted label, least confident first or most,
each with a link that opens it in its own tab.

analyze(source, gold, predicted, order) -> Errors -> figures(result); nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import Param, Section
from explorer.core import figures as fg
from explorer.web.deep_links import query_string
from explorer.web.exports import request_folder

from .analysis import asset

API_NAME = "corpus_errors"
ANY = "any"
ORDERS = {"confident": "most confident first", "unsure": "least confident first"}
HEADERS = {"sentence_text": "sentence", "bleu": "sentence BLEU", "pair": "pair # (text not bundled)"}
MAX_ROWS = 200  # errors listed at once; the filters (or a click on a cell) narrow the rest


@dataclass(frozen=True)
class Source:
    """One model on one test set, as the section shows it.

    labels: the confusion matrix's classes (empty for a translator); confusion: int[gold, predicted]
    or None; rows: the errors (or, for a translator, every caption), each a dict with "gold",
    "predicted", "confidence" (or "bleu") and the columns shown; link: row -> the deep link that
    opens the row in its tab ("" where the text is not bundled)
    """

    key: str
    title: str
    headline: str
    labels: tuple[str, ...]
    confusion: np.ndarray | None
    rows: list[dict]
    columns: tuple[str, ...]
    link: Callable[[dict], str]
    bleu: np.ndarray | None = None
    breakdown: str = ""


def tagger_source() -> Source:
    a = asset("errors_tagger")
    words = {s["id"]: s["words"] for s in a["sentences"]}
    confusion = np.asarray(a["confusion"])
    rows = [{**e, "sentence_text": " ".join(words[e["sentence"]])} for e in a["errors"]]
    return Source(
        key="tagger",
        title="Tagger (BiLSTM) on UD EWT test",
        headline=f"Accuracy **{a['accuracy'] * 100:.2f} %** over {int(confusion.sum()):,} words "
        f"({len(rows):,} wrong); {a['data']}. Licence: {a['licence']}.",
        labels=tuple(a["labels"]),
        confusion=confusion,
        rows=rows,
        columns=("word", "gold", "predicted", "confidence", "sentence_text"),
        link=lambda e: query_string("tag", {"text": e["sentence_text"], "token": e["token"]}),
    )


def nli_sources() -> list[Source]:
    a = asset("errors_nli")
    out = []
    for key, s in a["sets"].items():
        rows = [e for e in a["errors"] if e["set"] == key]
        has_text = all("premise" in e for e in rows)
        out.append(
            Source(
                key=f"nli:{key}",
                title=f"NLI (decomposable attention) on {s['name']}",
                headline=f"Accuracy **{s['accuracy'] * 100:.2f} %** over {s['pairs']:,} pairs ({len(rows):,} wrong). "
                f"Licence: {a['licence']}.",
                labels=tuple(a["labels"]),
                confusion=np.asarray(s["confusion"]),
                rows=rows,
                columns=("gold", "predicted", "confidence", "premise", "hypothesis") if has_text
                else ("gold", "predicted", "confidence", "pair"),
                link=(lambda e: query_string("nli", {"text": e["premise"], "text_b": e["hypothesis"]}))
                if has_text else (lambda e: ""),
                breakdown=swaps_markdown(s.get("by_swap")),
            )
        )  # fmt: skip
    return out


def swaps_markdown(by_swap: dict | None) -> str:
    """Breaking NLI's accuracy per swapped word (its note says why not per category), as a table."""
    if not by_swap:
        return ""
    rows = [
        f"| {fg.markdown_text(swap)} | {v['pairs']} | {v['accuracy'] * 100:.1f} % |"
        for swap, v in by_swap["swaps"].items()
    ]
    other = by_swap["other"]
    rows.append(f"| other (more than one word differs) | {other['pairs']} | {other['accuracy'] * 100:.1f} % |")
    return (
        f"**By swapped word.** {fg.markdown_text(by_swap['note'])}\n\n| swap | pairs | right |\n|---|---|---|\n"
        + "\n".join(rows)
    )


def translator_sources() -> list[Source]:
    a = asset("errors_translators")
    sentences = a["sentences"]
    out = []
    for name, m in a["models"].items():
        rows = [
            {"source": s["source"], "reference": s["reference"], "translation": m["hypotheses"][i],
             "bleu": m["sentence_bleu"][i], "gold": "", "predicted": ""}
            for i, s in enumerate(sentences)
        ]  # fmt: skip
        view = "transformer" if name == "transformer" else "translate"
        out.append(
            Source(
                key=f"translator:{name}",
                title=f"Translator: {m.get('name', name)} on Multi30k test 2016",
                headline=f"Corpus BLEU **{m['bleu']:.2f}** (beam 5, sacreBLEU {m.get('signature', '')}) over "
                f"{len(rows):,} captions; below, each caption's sentence BLEU. Licence: {a['licence']}.",
                labels=(),
                confusion=None,
                rows=rows,
                columns=("bleu", "source", "translation", "reference"),
                link=lambda e, view=view: query_string(view, {"text": e["source"]}),
                bleu=np.asarray(m["sentence_bleu"], dtype=float),
            )
        )
    return out


@cache
def sources() -> dict[str, Source]:
    """Every bundled analysis, by key (an analysis not bundled is left out); built once per process."""
    found: list[Source] = []
    for make in (tagger_source, nli_sources, translator_sources):
        try:
            made = make()
        except FileNotFoundError:
            continue
        found += made if isinstance(made, list) else [made]
    return {s.key: s for s in found}


def source(key) -> Source:
    if key not in sources():
        raise ValueError(f"The model must be one of {', '.join(sources())}, got {str(key)[:40]!r}.")
    return sources()[key]


@dataclass(frozen=True)
class Errors:
    source: Source
    gold: str
    predicted: str
    order: str
    matching: list[dict]


def analyze(model, gold, predicted, order) -> Errors:
    s = source(model)
    for value, what in ((gold, "The gold label"), (predicted, "The predicted label")):
        if value != ANY and value not in s.labels:
            allowed = ", ".join((ANY, *s.labels)) if s.labels else ANY
            raise ValueError(f"{what} must be one of {allowed}, got {str(value)[:40]!r}.")
    if order not in ORDERS:
        raise ValueError(f"The order must be confident or unsure, got {str(order)[:40]!r}.")
    rows = [r for r in s.rows if gold in (ANY, r["gold"]) and predicted in (ANY, r["predicted"])]
    score = "bleu" if s.bleu is not None else "confidence"
    # For a translator "confident" lists its best captions first, "unsure" its worst.
    rows = sorted(rows, key=lambda r: r[score], reverse=order == "confident")
    return Errors(s, gold, predicted, order, rows)


def confusion_figure(s: Source) -> dict:
    z = s.confusion
    share = z / np.maximum(z.sum(axis=1, keepdims=True), 1)
    return fg.heatmap(
        share * 100,
        list(s.labels),
        list(s.labels),
        title=f"{s.title}: % of each gold row (cell text: count)",
        x_title="predicted",
        y_title="gold",
        cell_text=np.where(z > 0, z.astype(str), ""),
        hover="gold %{y}, predicted %{x}: %{z:.1f} % of the row",
        zmin=0,
        zmax=100,
        cell_px=34 if len(s.labels) > 5 else 60,
    )


def bleu_figure(s: Source) -> dict:
    counts, edges = np.histogram(s.bleu, bins=10, range=(0, 100))
    return fg.bar(
        counts,
        [f"{edges[i]:.0f}–{edges[i + 1]:.0f}" for i in range(len(counts))],
        title=f"{s.title}: captions by sentence BLEU (median {np.median(s.bleu):.1f}; "
        f"{(s.bleu == 0).mean() * 100:.0f} % at 0)",
        x_title="captions",
    )


def confusion_table(s: Source) -> pd.DataFrame:
    if s.confusion is None:  # a translator: a caption has no label to count
        return pd.DataFrame(
            {"counts": ["A translation has no label: no confusion matrix. Its sentence BLEU is above."]}
        )
    table = pd.DataFrame(s.confusion, columns=list(s.labels))
    table.insert(0, "gold \\ predicted", list(s.labels))
    return table


def cell(value):
    return fg.markdown_text(value) if isinstance(value, str) else value


def rows_table(e: Errors) -> pd.DataFrame:
    shown = e.matching[:MAX_ROWS]
    columns = list(e.source.columns)
    # The table renders Markdown (for its links): every text cell is escaped first.
    table = pd.DataFrame([[cell(r[c]) for c in columns] for r in shown], columns=columns)
    links = [e.source.link(r) for r in shown]
    table.insert(0, "open", [f"[open in its tab]({link})" if link else "" for link in links])
    return table.rename(columns=HEADERS)


def figures(e: Errors) -> dict:
    s = e.source
    what = "captions" if s.bleu is not None else "errors"
    chosen = "" if s.bleu is not None else f" (gold {e.gold}, predicted {e.predicted})"
    return {
        "status": f"{s.headline}\n\n{len(e.matching):,} {what}{chosen}, {ORDERS[e.order]}; "
        f"the first {min(len(e.matching), MAX_ROWS)} listed.",
        "matrix": bleu_figure(s) if s.bleu is not None else confusion_figure(s),
        "cells": confusion_table(s),
        "rows": rows_table(e),
        "breakdown": s.breakdown,
    }


def show(model, gold, predicted, order) -> dict:
    """/corpus_errors: model (tagger, nli:<set>, translator:<name>), gold and predicted label (or
    any), order (confident | unsure) -> its headline score, confusion matrix or BLEU spread, and
    the matching errors with links."""
    e = analyze(model, gold, predicted, order)
    return {**figures(e), "result": e}


def write_exports(e: Errors, folder: Path | None = None) -> list[str]:
    """errors.csv (every matching row, not only the listed ones) and confusion.csv where there is one."""
    folder = Path(folder or request_folder("corpus_errors"))
    path = folder / "errors.csv"
    columns = list(e.source.columns)
    pd.DataFrame([[r[c] for c in columns] for r in e.matching], columns=columns).to_csv(
        path, index=False, encoding="utf-8"
    )
    paths = [str(path)]
    if e.source.confusion is not None:
        confusion = folder / "confusion.csv"
        confusion_table(e.source).to_csv(confusion, index=False, encoding="utf-8")
        paths.append(str(confusion))
    return paths


def choices() -> list[tuple[str, str]]:
    return [(s.title, key) for key, s in sources().items()]


def label_choices(model) -> list[str]:
    try:
        return [ANY, *source(model).labels]
    except ValueError:
        return [ANY]


def every_label() -> list[str]:
    labels = [ANY]
    for s in sources().values():
        labels += [label for label in s.labels if label not in labels]
    return labels


def inputs() -> dict:
    keys = [key for _, key in choices()]
    first = keys[0] if keys else "tagger"
    with gr.Column():
        model = gr.Dropdown(choices(), value=first, label="Model and test set", elem_id="errors-model")
        with gr.Row():
            # Every model's labels as the choices (what the API accepts; the handler checks a label
            # against the chosen model's); the page offers the chosen model's (relabel).
            gold = gr.Dropdown(every_label(), value=ANY, label="Gold label", elem_id="errors-gold")
            predicted = gr.Dropdown(every_label(), value=ANY, label="Predicted label", elem_id="errors-predicted")
            order = gr.Radio([(label, key) for key, label in ORDERS.items()], value="unsure", label="Order",
                             elem_id="errors-order")  # fmt: skip
    return {"model": model, "gold": gold, "predicted": predicted, "order": order}


def relabel(model, gold, predicted):
    """The filters of another model: its labels, keeping a chosen one that it also has (a deep
    link's), else "any"."""
    labels = label_choices(model)
    return tuple(gr.Dropdown(choices=labels, value=v if v in labels else ANY) for v in (gold, predicted))


def outputs() -> dict:
    matrix = gr.Plot(show_label=False, elem_id="errors-matrix")
    cells = gr.Dataframe(label="Counts: click a cell to list its examples (rows gold, columns predicted)",
                         interactive=False, elem_id="errors-cells")  # fmt: skip
    rows = gr.Dataframe(label="The errors", interactive=False, wrap=True, elem_id="errors-rows", max_height=520,
                        datatype="markdown")  # fmt: skip
    with gr.Accordion("Breaking NLI by swapped word", open=False, elem_id="errors-breakdown-box"):
        breakdown = gr.Markdown(elem_id="errors-breakdown")
    return {"matrix": matrix, "cells": cells, "rows": rows, "breakdown": breakdown}


def cell_filters(model, evt: gr.SelectData):
    """A click on the counts table -> (gold, predicted) of that cell; on the label column, that
    gold row with any prediction."""
    labels = list(source(model).labels)
    row, column = evt.index
    if not labels or row >= len(labels):
        return gr.skip(), gr.skip()
    return labels[row], (labels[column - 1] if 1 <= column <= len(labels) else ANY)


def wire(own: dict, shown: dict) -> None:
    """Another model chosen by the user (`input`: not a deep link filling it, whose own paint has
    every value) offers its own labels as filters; clicking a count sets the filters to its
    cell. Each then reruns the section (its button, pressed in the browser once the filters hold
    the new values: rerun_on reruns only on a person's own change of a filter)."""
    press = dict(fn=None, inputs=None, outputs=None, js=f"() => document.getElementById('{API_NAME}-button').click()")
    filters = [own["gold"], own["predicted"]]
    own["model"].input(relabel, [own["model"], *filters], filters, api_name=False, show_progress="hidden").then(**press)
    shown["cells"].select(cell_filters, [own["model"]], filters, api_name=False, show_progress="hidden").then(**press)


SECTION = Section(
    title="Where each model is wrong",
    api_name=API_NAME,
    models={},
    reads=(),
    inputs=("model", "gold", "predicted", "order"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build_inputs=inputs,
    build_outputs=outputs,
    button="List the errors",
    intro="Every bundled model over its whole test set, computed once (`python -m training.corpus_errors`): "
    "the score its model card gives, where its mistakes fall, and each mistake, which opens in its own tab.",
    note="corpus_errors",
    rerun_on=("gold", "predicted", "order"),
    wire=wire,
    export=write_exports,
    export_label="Export the matching errors (CSV)",
    examples=({"model": "tagger", "gold": ANY, "predicted": ANY, "order": "unsure"},),
    links=(
        Param("model", "model", "The model", "choice", choices=tuple(sources())),
        Param("gold", "gold", "The gold label", "text"),
        Param("predicted", "predicted", "The predicted label", "text"),
        Param("order", "order", "The order", "choice", choices=tuple(ORDERS)),
    ),
)
