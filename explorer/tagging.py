"""Tags per token: raw text -> EWT-style tokens -> UPOS tags with their probabilities.

analyze(text, tagger) -> TaggingResult -> figures(result) -> the Gradio tab.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import figures as fg
from .limits import check_tokens, clean_text
from .serving import each_checked

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
COLORS = {
    "ADJ": "#f4a261", "ADP": "#a8dadc", "ADV": "#e9c46a", "AUX": "#cdb4db", "CCONJ": "#bde0fe", "DET": "#caffbf",
    "INTJ": "#ffadad", "NOUN": "#8ecae6", "NUM": "#ffd6a5", "PART": "#d0d1ff", "PRON": "#b5e48c", "PROPN": "#219ebc",
    "PUNCT": "#dddddd", "SCONJ": "#fdffb6", "SYM": "#c9ada7", "VERB": "#f28482", "X": "#adb5bd",
}


@dataclass
class TaggingResult:
    """Tags for one text.

    tokens: list[str], EWT-style tokens of the text
    tags: list[str], argmax UPOS tag per token
    confidence: float[len(tokens)], probability of the chosen tag
    probs: float[len(tokens), len(tagset)], rows sum to 1
    tagset: list[str], the column names of probs
    """

    tokens: list[str]
    tags: list[str]
    confidence: np.ndarray
    probs: np.ndarray
    tagset: list[str]
    device: str
    seconds: float
    batch: int = 1  # texts tagged in the same forward (dynamic batching of API requests)


def analyze(text: str, tagger=None) -> TaggingResult:
    result = analyze_many([text], tagger)[0]
    if isinstance(result, ValueError):
        raise result
    return result


def analyze_many(texts: list[str], tagger=None) -> list[TaggingResult | ValueError]:
    """Tag several texts with one forward of the tagger (the API's dynamic batching).
    A text that fails its checks gets its ValueError in its place; the others are tagged."""
    from models import registry

    start = time.perf_counter()
    tagger = tagger or registry.tagger()
    tagged, together = each_checked(texts, lambda text: check_tokens(tagger.tokenize(clean_text(text, "The text")), "The text"),
                                    tagger.tag)
    seconds = time.perf_counter() - start
    return [r if isinstance(r, ValueError) else
            TaggingResult(r.tokens, r.tags, r.probs.max(axis=1), r.probs, tagger.tagset, str(tagger.device), seconds, together)
            for r in tagged]


def highlighted(r: TaggingResult) -> list[tuple[str, str | None]]:
    """(token, tag) pairs for gr.HighlightedText, with spaces between tokens."""
    pairs: list[tuple[str, str | None]] = []
    for i, (tok, tag) in enumerate(zip(r.tokens, r.tags)):
        if i:
            pairs.append((" ", None))
        pairs.append((tok, tag))
    return pairs


def uncertainty_highlighted(r: TaggingResult) -> list[tuple[str, float | None]]:
    """(token with p, 1 - p) pairs: HighlightedText shades a positive score red with opacity
    equal to the score, so a sure tag stays clear and a hesitant one turns red."""
    pairs: list[tuple[str, float | None]] = []
    for i, (tok, p) in enumerate(zip(r.tokens, r.confidence)):
        if i:
            pairs.append((" ", None))
        pairs.append((f"{tok} {p:.2f}", float(1 - p)))
    return pairs


def top_tags(r: TaggingResult, k: int) -> list[int]:
    """Tag columns to show: every tag chosen here, then the most probable others, up to k."""
    chosen = list(dict.fromkeys(int(i) for i in r.probs.argmax(axis=1)))
    rest = [int(i) for i in np.argsort(-r.probs.sum(axis=0)) if int(i) not in chosen]
    return chosen + rest[: max(0, k - len(chosen))]


def probs_figure(r: TaggingResult, k: int = 8):
    cols = top_tags(r, k)
    return fg.heatmap(r.probs[:, cols], [f"{i}: {t}" for i, t in enumerate(r.tokens)], [r.tagset[c] for c in cols],
                      title=f"P(tag | token, sentence): the {len(cols)} tags with most probability here",
                      x_title="UPOS tag", y_title="token", colorscale="Blues", zmin=0, zmax=1,
                      cell_text=np.vectorize(lambda p: f"{p:.2f}" if p >= 0.01 else "")(r.probs[:, cols]),
                      hover="p = %{z:.4f}", cell_px=26)


def table(r: TaggingResult) -> pd.DataFrame:
    """Per token: the tag, its probability, and the runner-up."""
    order = np.argsort(-r.probs, axis=1)
    return pd.DataFrame({
        "#": range(len(r.tokens)),
        "token": r.tokens,
        "tag": r.tags,
        "p(tag)": np.round(r.confidence.astype(float), 4),
        "runner-up": [r.tagset[o[1]] for o in order],
        "p(runner-up)": np.round(r.probs[np.arange(len(r.tokens)), order[:, 1]].astype(float), 4),
    })


def legend() -> pd.DataFrame:
    return pd.DataFrame([{"tag": t, "meaning": m, "examples": e} for t, (m, e) in UPOS.items()])


def figures(r: TaggingResult, k: int = 8) -> dict:
    return {
        "tags": highlighted(r),
        "confidence": uncertainty_highlighted(r),
        "probs": probs_figure(r, k),
        "table": table(r),
        "status": f"{len(r.tokens)} tokens tagged in {r.seconds * 1000:.1f} ms on {r.device}"
                  + (f" (one forward for {r.batch} queued requests)." if r.batch > 1 else "."),
    }


# -- the Gradio tab -------------------------------------------------------------------
def tab():
    """Build the Tags tab inside the current gr.Blocks; returns the load event's pieces."""
    import gradio as gr

    from .limits import MAX_TOP_TAGS, check_top_k, input_label
    from .ui import batched, listen, live, plot, teaching_note, user_errors

    def render(r: TaggingResult, text: str, k: int):
        f = figures(r, check_top_k(k))
        return f["tags"], f["confidence"], plot(f["probs"]), f["table"], f["status"]

    @user_errors
    def run(text: str, k: int):
        return render(analyze(text), text, k)

    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value="I don't think the new bikes will arrive before Friday.", lines=2, elem_id="tag-text",
                              **input_label("Text", tokens=True))
            gr.Examples([["I don't think the new bikes will arrive before Friday."],
                         ["Can you book a table for two at 7 pm?"],
                         ["She unfriended him after he kept posting memes."],
                         ["Time flies like an arrow; fruit flies like a banana."]], inputs=text)
            k = gr.Slider(3, MAX_TOP_TAGS, value=8, step=1, label="Tags shown in the heatmap (top-k)")
        with gr.Column(scale=2):
            teaching_note("tagging")
    status = gr.Markdown(elem_id="tag-status")
    tags = gr.HighlightedText(label="UPOS tag per token", color_map=COLORS, show_legend=False, elem_id="tag-tags")
    confidence = gr.HighlightedText(label="Probability of the chosen tag; red = the model hesitates (shade = 1 − p)", elem_id="tag-confidence")
    with gr.Row():
        probs = gr.Plot(show_label=False, elem_id="tag-probs")
        with gr.Column():
            per_token = gr.Dataframe(label="Per token: tag, probability, runner-up")
    with gr.Accordion("UPOS tags", open=False):
        gr.Dataframe(legend(), label="The 17 universal POS tags", interactive=False)
    outputs = [tags, confidence, probs, per_token, status]
    run_batch = batched(lambda requests: analyze_many([text for text, _ in requests]), render, outputs, status)
    listen(text, run, [text, k], outputs, status, api_name="tag", run_batch=run_batch)
    k.release(live(run, outputs, status), [text, k], outputs, api_name=False)
    return live(run, outputs, status), [text, k], outputs
