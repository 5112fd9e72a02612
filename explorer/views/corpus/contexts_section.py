"""One word in many contexts (Ethayarajh 2019): the section /corpus_contexts of the
Across-a-corpus tab.

A static embedding gives a word one vector; MiniLM gives it one per sentence. Shown: the word's
self-similarity by layer (mean pairwise cosine of its vectors, models/contexts.py) against the
anisotropy baseline (random words' mean cosine at that layer, precomputed by
`python -m training.contexts` into assets/analysis/contexts.json), and its vectors at one layer
on their first two principal axes: from your sentences, or from UD EWT sentences where the word is
a NOUN or a VERB (coloured by that gold tag), which separate as the layers add context.

analyze(word, sentences, source, layer, encoder) -> WordContexts -> figures(result)
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
from explorer.core.limits import MAX_ATTENTION_TOKENS, MAX_SENTENCES, check_whole, clean_text, input_label
from explorer.core.projection import pca_2d
from explorer.web.exports import request_folder
from models.runtime import MODELS

from .analysis import asset

LAYERS = MODELS["encoder"].shape["layers"]
SOURCES = {"yours": "your sentences", "corpus": "UD EWT sentences (gold NOUN / VERB)"}
TAG_COLOURS = {"NOUN": "#2166ac", "VERB": "#b35806"}
YOUR_SENTENCES = (
    "I sat on the bank of the river.\n"
    "The bank raised its interest rates.\n"
    "She paid the cheque in at the bank.\n"
    "The boat drifted toward the muddy bank.\n"
    "The river bank was covered in reeds.\n"
    "My bank closes at five on Fridays."
)


def corpus_words() -> list[str]:
    return list(asset("contexts")["words"])


@dataclass(frozen=True, kw_only=True)
class WordContexts:
    """word, sentences, tags (gold UPOS in corpus mode, else empty); layer: the projected one;
    self_similarity: float[layers + 1]; baseline: float[layers + 1] (anisotropy); points: [n, 2]
    at `layer`; explained: the two axes' shares of the variance"""

    word: str
    source: str
    sentences: tuple[str, ...]
    tags: tuple[str, ...]
    layer: int
    self_similarity: np.ndarray
    baseline: np.ndarray
    points: np.ndarray
    explained: np.ndarray
    run: RunInfo


def sentences_of(word: str, sentences, source: str) -> tuple[list[str], list[str]]:
    """(sentences, gold tags) to read `word` in: the typed lines, or the bundled EWT occurrences."""
    if source == "corpus":
        found = asset("contexts")["words"].get(word.lower())
        if found is None:
            shown = ", ".join(corpus_words()[:12])
            raise ValueError(
                f"{word[:40]!r} has no bundled EWT sentences; choose one of the listed words ({shown}, …)."
            )
        return [f["text"] for f in found["sentences"]], [f["upos"] for f in found["sentences"]]
    lines = [line.strip() for line in clean_text(sentences, "The sentences").splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError("Give at least two sentences, one per line: a self-similarity compares two vectors or more.")
    if len(lines) > MAX_SENTENCES:
        raise ValueError(f"Give at most {MAX_SENTENCES} sentences (one per line); got {len(lines)}.")
    return lines, []


def analyze(word, sentences, source, layer, encoder) -> WordContexts:
    word = clean_text(word, "The word").strip()
    if len(word.split()) != 1:
        raise ValueError(f"Give one word, got {word[:40]!r}.")
    if source not in SOURCES:
        raise ValueError(f"The sentences must come from yours or corpus, got {str(source)[:40]!r}.")
    layer = check_whole(layer, 0, LAYERS, "The layer")
    lines, tags = sentences_of(word, sentences, source)
    start = time.perf_counter()
    c = encoder.word_in_contexts(word, lines, max_tokens=MAX_ATTENTION_TOKENS)
    points, explained = pca_2d(c.vectors[layer])
    return WordContexts(
        word=word,
        source=source,
        sentences=tuple(lines),
        tags=tuple(tags),
        layer=layer,
        self_similarity=c.self_similarity,
        baseline=np.asarray(asset("contexts")["anisotropy"]),
        points=points,
        explained=explained,
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


def layer_names() -> list[str]:
    return ["embeddings"] + [f"layer {i}" for i in range(1, LAYERS + 1)]


def similarity_figure(r: WordContexts) -> dict:
    return fg.lines(
        layer_names(),
        {
            f"“{r.word}”: its vectors' mean cosine": r.self_similarity.round(4).tolist(),
            "any two words (anisotropy baseline)": r.baseline.round(4).tolist(),
            "the difference: how alike the context leaves it": (r.self_similarity - r.baseline).round(4).tolist(),
        },
        title=f"Self-similarity of “{fg.label(r.word)}” over {len(r.sentences)} sentences, by layer",
        y_title="mean cosine",
        y_range=(0, 1.02),
    )


def projection_figure(r: WordContexts) -> dict:
    groups = {}
    for i, tag in enumerate(r.tags or [""] * len(r.sentences)):
        groups.setdefault(tag, []).append(i)
    traces = []
    for tag, members in groups.items():
        traces.append(
            dict(
                type="scatter",
                mode="markers" if r.tags else "markers+text",
                x=r.points[members, 0],
                y=r.points[members, 1],
                name=tag or "your sentences",
                text=[str(i + 1) for i in members],
                textposition="top center",
                customdata=[fg.label(_clip(r.sentences[i])) for i in members],
                hovertemplate="%{text}: %{customdata}<extra></extra>",
                marker=dict(size=11, color=TAG_COLOURS.get(tag, "#555")),
            )
        )
    where = "embeddings" if r.layer == 0 else f"layer {r.layer}"
    return {
        "data": traces,
        "layout": dict(
            modebar=fg.MODEBAR,
            title=dict(text=f"“{fg.label(r.word)}” at {where} on two principal axes "
                       f"({r.explained[0] * 100:.0f} % + {r.explained[1] * 100:.0f} % of variance)", x=0.01),
            font=fg.FONT,
            height=380,
            margin=dict(l=10, r=fg.MODEBAR_ROOM, t=50, b=10),
            plot_bgcolor="white",
            showlegend=bool(r.tags),
            legend=dict(orientation="h", y=-0.2),  # under the plot: the mode bar stands at its right
            xaxis=dict(title=dict(text="axis 1"), zeroline=False, automargin=True),
            yaxis=dict(title=dict(text="axis 2"), zeroline=False, automargin=True),
        ),
    }  # fmt: skip


def _clip(text: str, n: int = 90) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def separation(r: WordContexts) -> str:
    """How far apart the two tags' points sit at the projected layer (corpus mode): centroid
    distance over the mean spread, a plain number for the status line."""
    if set(r.tags) != {"NOUN", "VERB"}:
        return ""
    tags = np.array(r.tags)
    a, b = r.points[tags == "NOUN"], r.points[tags == "VERB"]
    spread = (np.linalg.norm(a - a.mean(0), axis=1).mean() + np.linalg.norm(b - b.mean(0), axis=1).mean()) / 2
    return (f" On these two axes the NOUN and VERB centres lie {np.linalg.norm(a.mean(0) - b.mean(0)) / max(spread, 1e-9):.1f} "
            "times the points' mean distance from their centre apart.")  # fmt: skip


def figures(r: WordContexts) -> dict:
    s, base = r.self_similarity, r.baseline
    table = pd.DataFrame({"#": range(1, len(r.sentences) + 1), "sentence": list(r.sentences)})
    if r.tags:
        table.insert(1, "gold tag", list(r.tags))
    return {
        "status": (
            f"“{fg.markdown_text(r.word)}” in {len(r.sentences)} sentences: self-similarity {s[0]:.2f} at the "
            f"embeddings → {s[-1]:.2f} at layer {LAYERS} (random words: {base[0]:.2f} → {base[-1]:.2f}). "
            f"Computed in {r.run.seconds * 1000:.0f} ms on {r.run.device}.{separation(r)}"
        ),
        "similarity": similarity_figure(r),
        "projection": projection_figure(r),
        "sentences_table": table,
    }


def show(word, sentences, source, layer, *, encoder) -> dict:
    """/corpus_contexts: a word, your sentences (one per line) or source=corpus (its UD EWT
    sentences), the layer to project (0 = embeddings) -> its self-similarity by layer against
    the anisotropy baseline, and its vectors at that layer on two principal axes."""
    r = analyze(word, sentences, source, layer, encoder)
    return {**figures(r), "result": r}


def write_exports(r: WordContexts, folder: Path | None = None) -> list[str]:
    """self_similarity.csv (by layer, with the baseline) and projection.csv (the points, with their sentences)."""
    folder = Path(folder or request_folder("corpus_contexts"))
    similarity = folder / "self_similarity.csv"
    pd.DataFrame({"layer": layer_names(), "self_similarity": r.self_similarity.round(6),
                  "anisotropy_baseline": r.baseline}).to_csv(similarity, index=False, encoding="utf-8")  # fmt: skip
    projection = folder / "projection.csv"
    pd.DataFrame({"sentence": list(r.sentences), "gold_tag": list(r.tags) or [""] * len(r.sentences),
                  "axis_1": r.points[:, 0].round(6), "axis_2": r.points[:, 1].round(6)}).to_csv(
        projection, index=False, encoding="utf-8")  # fmt: skip
    return [str(similarity), str(projection)]


def inputs() -> dict:
    with gr.Column():
        with gr.Row():
            word = gr.Dropdown(corpus_words(), value="bank", allow_custom_value=True, label="Word (type any; the "
                               "list: words with EWT sentences)", elem_id="contexts-word")  # fmt: skip
            source = gr.Radio([(label, key) for key, label in SOURCES.items()], value="yours",
                              label="Sentences", elem_id="contexts-source")  # fmt: skip
            layer = gr.Slider(0, LAYERS, value=LAYERS, step=1, label="Layer to project (0 = embeddings)",
                              elem_id="contexts-layer")  # fmt: skip
        sentences = gr.Textbox(YOUR_SENTENCES, lines=4, elem_id="contexts-sentences",
                               **input_label("Your sentences, one per line, each with the word", lines=True))  # fmt: skip
    return {"word": word, "sentences": sentences, "source": source, "layer": layer}


def outputs() -> dict:
    with gr.Row():
        similarity = gr.Plot(show_label=False, elem_id="contexts-similarity")
        projection = gr.Plot(show_label=False, elem_id="contexts-projection")
    table = gr.Dataframe(label="The sentences (numbered as in the projection)", interactive=False, wrap=True,
                         elem_id="contexts-sentences-table", max_height=320)  # fmt: skip
    return {"similarity": similarity, "projection": projection, "sentences_table": table}


def sample(tokens: int, models) -> dict:
    line = ("the bank " * max(1, tokens // 2)).strip()
    return {"word": "bank", "sentences": f"{line}.\n{line}!", "source": "yours", "layer": LAYERS}


SECTION = Section(
    title="One word in many contexts",
    api_name="corpus_contexts",
    models={"encoder": "encoder"},
    reads=(),
    inputs=("word", "sentences", "source", "layer"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build_inputs=inputs,
    build_outputs=outputs,
    button="Compare its vectors",
    intro="Does “bank” get a different vector in each sentence, and from which layer on? The word's vectors "
    "(the mean of its word pieces' states) from every sentence, compared at every layer.",
    note="contexts",
    rerun_on=("source", "layer"),
    export=write_exports,
    export_label="Export the self-similarity and the projection (CSV)",
    examples=(
        {"word": "bank", "sentences": YOUR_SENTENCES, "source": "yours", "layer": LAYERS},
        {"word": "work", "sentences": YOUR_SENTENCES, "source": "corpus", "layer": LAYERS},
    ),
    limits={"sentences": MAX_ATTENTION_TOKENS},
    floor="models.floors:contexts",
    sample=sample,
    links=(
        Param("word", "word", "The word"),
        Param("sentences", "sentences", "The sentences", optional=True),
        Param("source", "source", "The sentences' source", "choice", choices=tuple(SOURCES)),
        Param("projected", "layer", "The projected layer", "int", 0, LAYERS),
    ),
)
