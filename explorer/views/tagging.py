"""Tags per token: raw text -> EWT-style tokens -> UPOS tags with their probabilities.

analyze(text, tagger) -> TaggingResult -> figures(result) -> the Gradio tab.
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import FirstPaint, Param, RunInfo, View, text_param
from explorer.core import figures as fg
from explorer.core.limits import MAX_TOKENS, MAX_TOP_TAGS, check_tokens, check_top_k, clean_text, input_label
from explorer.core.plural import plural
from explorer.core.samples import sample_text
from explorer.web.sections import place
from explorer.web.serving import each_checked
from explorer.web.ui import batched, endpoint, listen, live, teaching_note

from . import saliency_section

ENGLISH_ONLY = (
    "\n\nℹ️ The tagger learned English only (UD English EWT): most of these words are in another script,"
    " so their tags are guesses."
)

# The 17 Universal POS tags (universaldependencies.org/u/pos), one line each.
UPOS = {
    "ADJ": ("adjective", "big, old, green, first"),
    "ADP": ("adposition (preposition)", "in, to, during"),
    "ADV": ("adverb", "very, tomorrow, down, where"),
    "AUX": ("auxiliary verb", "is, has (done), will (do), should"),
    "CCONJ": ("coordinating conjunction", "and, or, but"),
    "DET": ("determiner", "a, the, this, which"),
    "INTJ": ("interjection", "psst, ouch, hello"),
    "NOUN": ("noun", "girl, cat, tree, air"),
    "NUM": ("numeral", "1, 2017, one, IV"),
    "PART": ("particle", "'s (possessive), not, n't, to (infinitive)"),
    "PRON": ("pronoun", "I, you, he, myself, somebody"),
    "PROPN": ("proper noun", "Mary, London, NATO"),
    "PUNCT": ("punctuation", ". , ( ) ?"),
    "SCONJ": ("subordinating conjunction", "that, if, while"),
    "SYM": ("symbol", "$, %, §, :), +"),
    "VERB": ("verb", "run, ate, eating"),
    "X": ("other", "foreign words, typos, etc."),
}
# Label colours: the tag's name is drawn in white on its colour, so each has a contrast of at
# least 4.5:1 with white (WCAG AA; tests/test_first_impressions.py checks it). Darkened Okabe-Ito
# hues, one family per kind of word, and no red-vs-green pair: nouns blue, verbs vermillion,
# modifiers purple, function words bluish green, numbers and symbols ochre, the rest grey. The
# name is always written on the label, so the colour is never the only cue.
COLORS = {
    "NOUN": "#0072b2", "PROPN": "#1f4e8c", "PRON": "#3a6ea5", "VERB": "#b34700", "AUX": "#8c3a00",
    "ADJ": "#a8507e", "ADV": "#7d3c98", "INTJ": "#8e3563", "DET": "#00735a", "ADP": "#2f6b5e",
    "CCONJ": "#3f6660", "SCONJ": "#56627a", "PART": "#6a4c93", "NUM": "#8a5f00", "SYM": "#6b5b2e",
    "PUNCT": "#616161", "X": "#4a4a4a",
}  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class TaggingResult:
    """Tags for one text.

    tagged: models.tagger.TagResult (tokens, tags, probs float[len(tokens), len(tagset)], rows sum to 1)
    tagset: list[str], the column names of probs
    run: how it was computed
    """

    tagged: object
    tagset: list[str]
    run: RunInfo

    @property
    def confidence(self) -> np.ndarray:
        """float[len(tokens)], the probability of each chosen tag."""
        return self.tagged.probs.max(axis=1)


def read(text: str, tagger) -> list[str]:
    """The request's text, cleaned, tokenized the tagger's way and checked: once per request."""
    return check_tokens(tagger.tokenize(clean_text(text, "The text")), "The text")


def analyze(text: str, tagger) -> TaggingResult:
    result = analyze_many([text], tagger)[0]
    if isinstance(result, ValueError):
        raise result
    return result


def analyze_many(texts: list[str], tagger) -> list[TaggingResult | ValueError]:
    """Tag several texts with one forward of the tagger (the API's dynamic batching).
    A text that fails its checks gets its ValueError in its place; the others are tagged."""
    start = time.perf_counter()
    tagged, together = each_checked(texts, lambda text: read(text, tagger), tagger.tag)
    run = RunInfo(device=str(tagger.device), seconds=time.perf_counter() - start, batch=together)
    return [
        r if isinstance(r, ValueError) else TaggingResult(tagged=r, tagset=list(tagger.tagset), run=run) for r in tagged
    ]


def highlighted(r: TaggingResult) -> list[tuple[str, str | None]]:
    """(token, tag) pairs for gr.HighlightedText, with spaces between tokens."""
    pairs: list[tuple[str, str | None]] = []
    for i, (tok, tag) in enumerate(zip(r.tagged.tokens, r.tagged.tags)):
        if i:
            pairs.append((" ", None))
        pairs.append((tok, tag))
    return pairs


def uncertainty_highlighted(r: TaggingResult) -> list[tuple[str, float | None]]:
    """(token with p, 1 - p) pairs: HighlightedText shades a positive score with opacity equal to
    the score (one hue, so no colour pair to tell apart), so a sure tag stays clear and a hesitant one darkens."""
    pairs: list[tuple[str, float | None]] = []
    for i, (tok, p) in enumerate(zip(r.tagged.tokens, r.confidence)):
        if i:
            pairs.append((" ", None))
        pairs.append((f"{tok} {p:.2f}", float(1 - p)))
    return pairs


def top_tags(r: TaggingResult, k: int) -> list[int]:
    """The k tag columns to show: the tags chosen here first (most chosen first), then the most
    probable others. Exactly min(k, tags) columns, so the slider always changes the heatmap."""
    probs = r.tagged.probs
    chosen = probs.argmax(axis=1)
    mass = probs.sum(axis=0)
    order = sorted(range(probs.shape[1]), key=lambda c: (-(chosen == c).sum(), -mass[c]))
    return order[:k]


def not_english(tokens: list[str]) -> bool:
    """True when most words are written in a script other than Latin (the tagger read only English)."""
    words = [t for t in tokens if any(ch.isalpha() for ch in t)]
    latin = [t for t in words if all(unicodedata.name(ch, "").startswith("LATIN") for ch in t if ch.isalpha())]
    return bool(words) and len(latin) < len(words) / 2


def probs_figure(r: TaggingResult, k: int = 8):
    cols, probs = top_tags(r, k), r.tagged.probs
    return fg.heatmap(
        probs[:, cols],
        [f"{i}: {t}" for i, t in enumerate(r.tagged.tokens)],
        [r.tagset[c] for c in cols],
        title=f"P(tag | token, sentence): the {len(cols)} tags with most probability here",
        x_title="UPOS tag",
        y_title="token",
        colorscale="Blues",
        zmin=0,
        zmax=1,
        cell_text=np.vectorize(lambda p: f"{p:.2f}" if p >= 0.01 else "")(probs[:, cols]),
        hover="p = %{z:.4f}",
        cell_px=26,
    )


def table(r: TaggingResult) -> pd.DataFrame:
    """Per token: the tag, its probability, and the runner-up."""
    t = r.tagged
    order = np.argsort(-t.probs, axis=1)
    return pd.DataFrame(
        {
            "#": range(len(t.tokens)),
            "token": t.tokens,
            "tag": t.tags,
            "p(tag)": np.round(r.confidence.astype(float), 4),
            "runner-up": [r.tagset[o[1]] for o in order],
            "p(runner-up)": np.round(t.probs[np.arange(len(t.tokens)), order[:, 1]].astype(float), 4),
        }
    )


def legend() -> pd.DataFrame:
    return pd.DataFrame([{"tag": t, "meaning": m, "examples": e} for t, (m, e) in UPOS.items()])


def figures(r: TaggingResult, k: int = 8) -> dict:
    return {
        "tags": highlighted(r),
        "confidence": uncertainty_highlighted(r),
        "probs": probs_figure(r, k),
        "table": table(r),
        "status": f"{plural(len(r.tagged.tokens), 'token')} tagged in {r.run.seconds * 1000:.1f} ms on {r.run.device}"
        + (f" (one forward for {r.run.batch} queued requests)." if r.run.batch > 1 else ".")
        + (ENGLISH_ONLY if not_english(r.tagged.tokens) else ""),
    }


# -- the endpoint and the tab ----------------------------------------------------------------
EXAMPLES = (
    "I don't think the new bikes will arrive before Friday.",
    "Can you book a table for two at 7 pm?",
    "She unfriended him after he kept posting memes.",
    "Time flies like an arrow; fruit flies like a banana.",
)


def render(r: TaggingResult, text: str, k) -> dict:
    """One request's outputs by name (also the batched endpoint's, per request)."""
    f = figures(r, check_top_k(k))
    return {name: f[name] for name in ("tags", "confidence", "probs", "table", "status")}


def show(text: str, k, *, tagger) -> dict:
    """/tag: a text and the heatmap's top-k -> tags, probabilities, table and status by name
    (and the plain result, which the tab does not send: explorer.show hands it on)."""
    r = analyze(text, tagger)
    return {**render(r, text, k), "result": r}


def show_many(requests: list[tuple], *, tagger) -> list:
    """/tag with dynamic batching: every queued (text, k) in one forward."""
    return analyze_many([text for text, _ in requests], tagger)


def build(view: View, runtime):
    """The Tags tab inside the current gr.Blocks; returns the function of its first paint."""
    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=EXAMPLES[0], lines=2, elem_id="tag-text", **input_label("Text", tokens=True))
            gr.Examples([[e] for e in EXAMPLES], inputs=text)
            k = gr.Slider(3, MAX_TOP_TAGS, value=8, step=1, label="Tags shown in the heatmap (top-k)", elem_id="tag-k")
        with gr.Column(scale=2):
            teaching_note("tagging")
    status = gr.Markdown(elem_id="tag-status")
    tags = gr.HighlightedText(label="UPOS tag per token", color_map=COLORS, show_legend=False, elem_id="tag-tags")
    confidence = gr.HighlightedText(
        label="Probability of the chosen tag; red = the model hesitates (shade = 1 − p)", elem_id="tag-confidence"
    )
    with gr.Row():
        probs = gr.Plot(show_label=False, elem_id="tag-probs")
        with gr.Column():
            per_token = gr.Dataframe(label="Per token: tag, probability, runner-up")
    with gr.Accordion("UPOS tags", open=False):
        gr.Dataframe(legend(), label="The 17 universal POS tags", interactive=False)
    with gr.Accordion(saliency_section.HEADING, open=False):  # issue 14: attention vs saliency
        sections = place(view.sections, runtime, {"text": text}, as_tabs=False)
    outputs = {"tags": tags, "confidence": confidence, "probs": probs, "table": per_token, "status": status}
    run = endpoint(runtime, view.models, show, outputs)
    run_batch = batched(runtime, view.models, show_many, render, outputs, "status", same_as=show)
    listen(text, run, [text, k], list(outputs.values()), status, api_name=view.api_name, run_batch=run_batch)
    shown = list(outputs.values())
    k.release(live(run, status, shown), [text, k], shown, api_name=False)
    return FirstPaint(live(run, status, shown), [text, k], shown, linked=sections, components={"text": text, "k": k})


VIEW = View(
    title="Tags",
    api_name="tag",
    models={"tagger": "tagger"},
    inputs=("text", "k"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=tuple({"text": e, "k": 8} for e in EXAMPLES),
    limits={"text": MAX_TOKENS},
    floor="models.floors:tagger",
    sample=lambda tokens, models: {"text": sample_text(lambda t: len(models["tagger"].tokenize(t)), tokens), "k": 8},
    links=(text_param("text", "text", "The text"), Param("k", "k", "k (tags shown)", "int", 3, MAX_TOP_TAGS)),
    sections=(saliency_section.TAG_SECTION,),
)
