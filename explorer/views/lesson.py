"""The Lesson tab: a path through the ideas in ten short steps, each opening the view that shows
it on an input chosen for the point, and the one step no other tab shows: words as one-hot
vectors vs as learned input embeddings (MiniLM's own table).

analyze(text, embeddings) -> LessonResult -> figures(result) -> the Gradio tab.
A step's button opens its link through the same code as a deep link (explorer/web/deep_links.py).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import FirstPaint, RunInfo, View, text_param
from explorer.core import figures as fg
from explorer.core.limits import MAX_WORD_CHARS, MAX_WORDS, clean_text, input_label
from explorer.core.plural import plural
from explorer.core.samples import CAPTIONS
from explorer.web import deep_links
from explorer.web.ui import endpoint, listen, live

from . import tagging, translation
from .batching import tab as batching_tab
from .corpus import tab as corpus_tab
from .nli import tab as nli_tab
from .self_attention import tab as self_attention_tab
from .transformer import tab as transformer_tab

# The other views a step opens, for their titles (explorer.VIEWS holds this view too, so it is not read here).
OPENED = (
    batching_tab.VIEW,
    tagging.VIEW,
    translation.VIEW,
    self_attention_tab.VIEW,
    transformer_tab.VIEW,
    nli_tab.VIEW,
    corpus_tab.VIEW,
)
NEIGHBOURS = 5


@dataclass(frozen=True)
class Step:
    """One step of the lesson: 2-4 sentences, the one formula it is about (LaTeX), and the view
    (API name) with the deep-link values that show it."""

    title: str
    text: str
    formula: str
    view: str
    values: dict

    @property
    def link(self) -> str:
        return deep_links.query_string(self.view, self.values)


TIRED = "The animal didn't cross the street because it was too tired."
WIDE = "The animal didn't cross the street because it was too wide."
YELLOW = "Several women stand on a platform near the yellow line."
STEPS = (
    Step(
        "Words as one-hot vectors, then as embeddings",
        "A one-hot vector has a single 1 at the word's index in the vocabulary and 0 everywhere else, so any "
        "two different words are orthogonal: 'cat' is as far from 'dog' as from 'sad'. The embedding layer "
        "multiplies that vector by a learned table E, and related words end up close. The view below does "
        "both with MiniLM's own table.",
        r"e_w = \mathbf{1}_w^{\top} E,\quad \cos(\mathbf{1}_u, \mathbf{1}_v) = 0 \ (u \ne v)",
        "lesson",
        {"text": "cat dog car truck happy sad unhappy"},
    ),
    Step(
        "A recurrent network reads in order",
        "A BiLSTM reads the words left to right and right to left, carrying a state h_t, so each word's tag "
        "can depend on its neighbours. 'flies' and 'like' get different tags in the two halves of this "
        "sentence: the words are the same, the context is not.",
        r"h_t = \mathrm{LSTM}(x_t, h_{t-1}),\quad p(\mathrm{tag}_t) = \mathrm{softmax}(W[\overrightarrow{h}_t; \overleftarrow{h}_t])",
        "tag",
        {"text": "Time flies like an arrow; fruit flies like a banana.", "k": 8},
    ),
    Step(
        "Padding a batch",
        "To run sentences of different lengths as one tensor, every row is padded to the longest. With very "
        "unequal lengths most cells are padding: look at the padding fraction and the grey cells.",
        r"\mathrm{mask}_{b,t} = [\, t < \mathrm{len}_b \,]",
        "batch",
        {
            "text": "Hi .\nThe dog that the cat that the rat bit chased ran all the way across the big green field .\nYes !"
        },
    ),
    Step(
        "Packing: no work on the pads",
        "pack_padded_sequence sorts the rows by length and, at each time step t, keeps only the rows still "
        "running. batch_sizes says how many; the RNN never reads a pad (open the PackedSequence tab).",
        r"\mathrm{batch\_sizes}_t = |\{\, b : \mathrm{len}_b > t \,\}|",
        "batch",
        {
            "text": "Ok .\nThe committee will publish its final report on the new railway line early next spring .\n"
            "Thanks a lot .\nSee you tomorrow at the station ."
        },
    ),
    Step(
        "The masked loss",
        "The loss of a padded batch must average over real tokens only. Here every word carries its gold tag "
        "inline; compare the masked mean with the unmasked one, which also counts the PAD cells. Below the "
        "figures, the same small tagger trained three ways: the unmasked run learns to predict PAD, and an "
        "accuracy that counts the pads makes it look better than it is.",
        r"L = \frac{\sum_{b,t} m_{b,t}\, \ell_{b,t}}{\sum_{b,t} m_{b,t}}",
        "batch",
        {
            "text": "Dogs/NOUN bark/VERB ./PUNCT\nThe/DET old/ADJ man/NOUN walked/VERB his/PRON dog/NOUN in/ADP the/DET park/NOUN ./PUNCT",
            "section": "batch_training",
        },
    ),
    Step(
        "An encoder-decoder with one fixed context C",
        "The encoder squeezes the whole sentence into one vector C, and the decoder writes every German word "
        "from it. On a long sentence C is not enough: compare the two translations under 'The same sentence "
        "without attention'.",
        r"C = h_S,\quad s_t = g(s_{t-1}, y_{t-1}, C)",
        "translate",
        {
            "text": "Two men in orange vests are repairing the road next to a large yellow truck while a woman "
            "with a stroller waits to cross the street.",
            "beam": 1,
        },
    ),
    Step(
        "Attention: a new context at every step",
        "With attention the decoder computes a fresh context c_t for each word it writes, weighting the "
        "source tokens by α. German puts the verb of a 'while' clause last: step to the clause's verb and "
        "see which English word it reads.",
        r"\alpha_{ts} = \mathrm{softmax}_s(e_{ts}),\quad c_t = \sum_s \alpha_{ts} h_s",
        "translate",
        {"text": "A man is sleeping on a bench while a dog watches him.", "beam": 1, "step": 10},
    ),
    Step(
        "Self-attention: every word looks at every word",
        "In a Transformer each token attends to all tokens of its own sentence. The two sentences differ in "
        "one word, and 'it' means the animal in one and the street in the other: compare where 'it' looks "
        "in layer 4, head 2 (the comparison is open below the head statistics).",
        r"A = \mathrm{softmax}\!\left(QK^{\top} / \sqrt{d_k}\right)",
        "self_attention",
        {"text": TIRED, "text2": WIDE, "layer": 4, "head": 2},
    ),
    Step(
        "BERT reads a sentence pair",
        "A BERT-style encoder reads two sentences as one sequence, [CLS] A [SEP] B [SEP]. Some heads attend "
        "across the separator, from the words of A to those of B; others park their attention on [SEP].",
        r"x = [\mathrm{CLS}]\, A\, [\mathrm{SEP}]\, B\, [\mathrm{SEP}],\quad x_i = \mathrm{tok}_i + \mathrm{pos}_i + \mathrm{seg}_i",
        "self_attention",
        {"text": "A man is playing a guitar.", "text_b": "Someone is making music.", "layer": 4, "head": 12},
    ),
    Step(
        "Contextual vectors: one word, a vector per sentence",
        "A static embedding (word2vec, GloVe, the table of step 1) gives 'bank' one vector. After self-attention "
        "each layer mixes the sentence into it, so the river bank and the money bank get different vectors: "
        "their mean cosine falls with depth (Ethayarajh 2019), and on two principal axes the two senses part.",
        r"\mathrm{SelfSim}_\ell(w) = \frac{2}{n(n-1)} \sum_{i<j} \cos\big(h_\ell(w, s_i),\, h_\ell(w, s_j)\big)",
        "corpus",
        {"section": "corpus_contexts", "word": "bank", "source": "yours", "projected": 6},
    ),
    Step(
        "A decoder that may only look back, and attention across two sentences",
        "The Transformer translates with three attentions: self-attention over the English, self-attention over "
        "the German written so far, masked so that position t cannot look ahead, and cross-attention, where each "
        "German position queries the English. The decoder's map is grey above the diagonal; step through the "
        "decoding and compare its alignment with the GRU's at the bottom.",
        r"\mathrm{softmax}\!\left(\frac{QK^{\top}}{\sqrt{d_k}} + M\right)V,\quad M_{ij} = -\infty \ (j > i)",
        "transformer",
        {"text": "A man is sleeping on a bench while a dog watches him.", "kind": "decoder", "step": 6},
    ),
    Step(
        "Soft alignment for inference",
        "The decomposable attention model aligns each premise word softly with the hypothesis words, compares "
        "the aligned pairs and adds up the evidence. One swapped word ('yellow' to 'red') should flip the "
        "label to contradiction; the comparison below shows how little the alignment moves.",
        r"\beta_i = \sum_j \mathrm{softmax}_j(e_{ij})\, b_j,\quad e_{ij} = F(a_i)^{\top} F(b_j)",
        "nli",
        {"text": YELLOW, "text_b": YELLOW.replace("yellow", "red"), "text2": YELLOW, "text2_b": YELLOW},
    ),
)


# -- one-hot vs embeddings: the analysis --------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class LessonResult:
    """The words typed, as one-hot vectors and as MiniLM input embeddings.

    vectors: models.embeddings.WordVectors (words, pieces, onehot_cosine float[N, N] (0 off the
        diagonal for words sharing no piece), embedding_cosine float[N, N], neighbours per word)
    unknown: the words MiniLM's vocabulary has no piece for but [UNK]
    """

    vectors: object
    unknown: list[str]
    run: RunInfo


def read_words(text: str) -> list[str]:
    """Distinct words (lower-cased: MiniLM's vocabulary is uncased), split at spaces and commas."""
    words = []
    for word in re.split(r"[\s,;]+", clean_text(text, "The words").lower()):
        if word and word not in words:
            words.append(word)
    if len(words) < 2:
        raise ValueError("Type at least 2 different words, separated by spaces.")
    if len(words) > MAX_WORDS:
        raise ValueError(f"{plural(len(words), 'word')}; the limit is {MAX_WORDS}.")
    long = [w for w in words if len(w) > MAX_WORD_CHARS]
    if long:
        raise ValueError(f"A word has {len(long[0])} characters; the limit is {MAX_WORD_CHARS}.")
    return words


def analyze(text: str, embeddings) -> LessonResult:
    start = time.perf_counter()
    words = read_words(text)
    vectors = embeddings.compare(words, NEIGHBOURS)
    unknown = [w for w, pieces in zip(vectors.words, vectors.pieces) if pieces == ["[UNK]"]]
    return LessonResult(
        vectors=vectors,
        unknown=unknown,
        run=RunInfo(device=str(embeddings.device), seconds=time.perf_counter() - start),
    )


def cosine_figure(cosine: np.ndarray, words: list[str], title: str) -> dict:
    return fg.heatmap(
        cosine,
        words,
        words,
        title=title,
        colorscale=fg.BLUE_ORANGE,
        zmin=-1,
        zmax=1,
        cell_format=".2f",
        hover="cosine = %{z:.3f}",
        cell_px=34,
    )


def neighbours_table(r: LessonResult) -> pd.DataFrame:
    v = r.vectors
    return pd.DataFrame(
        {
            "word": v.words,
            "word pieces": [" ".join(p) for p in v.pieces],
            f"nearest {NEIGHBOURS} whole-word pieces by embedding cosine": [
                ", ".join(f"{piece} {c:.2f}" for piece, c in found) for found in v.neighbours
            ],
        }
    )


def status(r: LessonResult) -> str:
    v = r.vectors
    n = len(v.words)
    off = ~np.eye(n, dtype=bool)
    shared = int((v.onehot_cosine[off] > 1e-9).sum() // 2)
    zeros = "all 0" if not shared else f"0 except {plural(shared, 'pair')} sharing a word piece"
    text = (
        f"{plural(n, 'word')}: one-hot vectors of length V = {v.vocabulary:,}, embeddings of d = {v.dim}. "
        f"Off the diagonal the one-hot cosines are {zeros}; "
        f"the embedding cosines range from {v.embedding_cosine[off].min():.2f} to {v.embedding_cosine[off].max():.2f}. "
        f"{r.run.seconds * 1000:.0f} ms on {r.run.device}."
    )
    if r.unknown:
        text += (
            f"\n\nℹ️ Not in the vocabulary (one [UNK] piece each): {', '.join(fg.markdown_text(w) for w in r.unknown)}."
        )
    return text


def figures(r: LessonResult) -> dict:
    v = r.vectors
    return {
        "status": status(r),
        "onehot": cosine_figure(v.onehot_cosine, v.words, "As one-hot vectors: cos(1<sub>u</sub>, 1<sub>v</sub>)"),
        "embedded": cosine_figure(
            v.embedding_cosine, v.words, "As MiniLM input embeddings: cos(e<sub>u</sub>, e<sub>v</sub>)"
        ),
        "neighbours": neighbours_table(r),
    }


def show(text: str, *, embeddings) -> dict:
    """/lesson: a few words -> their one-hot and embedding cosine maps, and nearest neighbours
    (and the plain result, which the tab does not send: explorer.show hands it on)."""
    r = analyze(text, embeddings)
    return {**figures(r), "result": r}


# -- the tab --------------------------------------------------------------------------------------
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]


def step_markdown(number: int, step: Step, titles: dict) -> str:
    where = titles.get(step.view, step.view)
    return (
        f"### {number}. {step.title}\n\n{step.text}\n\n$${step.formula}$$\n\n"
        f"<small>Opens **{where}** · [this step's link]({step.link})</small>"
    )


def build(view: View, runtime) -> FirstPaint:
    """The Lesson tab inside the current gr.Blocks: the steps, then step 1's view."""
    titles = {v.api_name: v.title for v in (view, *OPENED)}
    gr.Markdown(
        "A path through the ideas, in the order a course meets them. Start anywhere: each button opens the "
        "view with an input chosen to show the point, and each step's link opens the same view on another "
        "screen (a projector, fifty laptops).",
        elem_id="lesson-intro",
    )
    buttons = {}
    for first in range(0, len(STEPS), 2):
        with gr.Row(equal_height=False):
            for number in range(first, min(first + 2, len(STEPS))):
                step = STEPS[number]
                with gr.Column(variant="panel", elem_classes="lesson-step"):
                    gr.Markdown(step_markdown(number + 1, step, titles), latex_delimiters=LATEX)
                    buttons[f"step {number + 1}"] = gr.Button(
                        f"Open step {number + 1} in {titles.get(step.view, step.view)}",
                        size="sm",
                        variant="primary" if number == 0 else "secondary",
                        elem_id=f"lesson-step-{number + 1}",
                    )
    gr.Markdown("## Step 1's view: one-hot vectors vs input embeddings", elem_id="lesson-embeddings")
    words = gr.Textbox(
        value=STEPS[0].values["text"],
        lines=1,
        elem_id="lesson-words",
        **input_label(f"Words, separated by spaces (2–{MAX_WORDS} words)"),
    )
    status_md = gr.Markdown(elem_id="lesson-status")
    with gr.Row():
        onehot = gr.Plot(show_label=False, elem_id="lesson-onehot")
        embedded = gr.Plot(show_label=False, elem_id="lesson-embedded")
    neighbours = gr.Dataframe(label="Nearest neighbours in the vocabulary", wrap=True, elem_id="lesson-neighbours")
    outputs = {"status": status_md, "onehot": onehot, "embedded": embedded, "neighbours": neighbours}
    run = endpoint(runtime, view.models, show, outputs)
    listen(words, run, [words], list(outputs.values()), status_md, api_name=view.api_name)
    shown = list(outputs.values())
    return FirstPaint(live(run, status_md, shown), [words], shown, components={"text": words, **buttons})


def wire_steps(blocks, painters: dict) -> None:
    """Each step's button: its link, rendered by the target view's Painter (as a page load would
    render the same link), then the browser notes the tab and writes the URL."""
    buttons = painters[VIEW.api_name].paint.components
    for number, step in enumerate(STEPS, start=1):
        button, painter = buttons[f"step {number}"], painters.get(step.view)
        if painter is None:
            continue
        link = deep_links.parse(_query(step), painter.links)

        def open_step(*values, painter=painter, link=link):
            return painter.render(link, *values)

        names, linked = list(painter.written), list(painter.written.values())
        scroll = (
            "document.querySelector('#lesson-words')?.scrollIntoView();"
            if step.view == "lesson"
            else "window.scrollTo(0, 0);"
        )
        opened = button.click(
            open_step, painter.inputs, painter.outputs, api_name=False, show_progress_on=list(painter.paint.outputs)
        ).then(None, linked, None, js=deep_links.select_view_js(step.view, names, before=scroll))
        painter.then_fill(opened)


def _query(step: Step) -> dict:
    """The step's link as the query dict a browser would send (values as text)."""
    return dict(parse_qsl(step.link[1:], keep_blank_values=True))


def sample(tokens: int, models) -> dict:
    """The bench's input: the first `tokens` distinct words of the caption passage (at most MAX_WORDS)."""
    words = []
    for word in CAPTIONS:
        if word.isalpha() and word.lower() not in words:
            words.append(word.lower())
        if len(words) == min(tokens, MAX_WORDS):
            break
    return {"text": " ".join(words)}


VIEW = View(
    title="Lesson",
    api_name="lesson",
    models={"embeddings": "embeddings"},
    inputs=("text",),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=({"text": STEPS[0].values["text"]}, {"text": "king queen man woman paris france"}),
    limits={"text": MAX_WORDS},
    sample=sample,
    floor="models.floors:embeddings",
    bench_sizes=(8,),
    links=(text_param("text", "text", "The words"),),
)
