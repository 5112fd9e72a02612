"""Decoder attention alignments: an English sentence -> its German translation, the weights α_ts
the decoder put on each source token at each step, the beams, and the same sentence through the
encoder-decoder without attention.

analyze(text, beam_size, translator, baseline) -> TranslationResult -> figures(result) and
step_view(result, t) -> the Gradio tab.
"""

from __future__ import annotations

import csv
import json
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import FirstPaint, Param, RunInfo, View, text_param
from explorer.core import figures as fg
from explorer.core.limits import (
    MAX_BEAM,
    MAX_SOURCE_TOKENS,
    input_label,
    max_decoding_step,
)
from explorer.core.limits import check_translation as read
from explorer.core.plural import plural
from explorer.core.samples import sample_text
from explorer.web.exports import request_folder
from explorer.web.sections import export_accordion
from explorer.web.serving import batching_enabled
from explorer.web.ui import batched, batched_event, endpoint, live, teaching_note, value
from models.runtime import MODELS

ASSETS = (
    Path(__file__).resolve().parents[2] / "assets" / "translator"
)  # models.translator.ASSETS, without importing torch
BLEU_BY_LENGTH = ASSETS / "bleu_by_length.json"
# Captions the bundled model translates well (checked by tests/test_translation_app.py).
EXAMPLES = [
    "A man in a blue shirt is riding a bike down the street.",
    "Two young girls are playing with a ball on the beach.",
    "A woman in a red dress is singing on a stage.",
    "A brown dog is running through the grass with a stick in its mouth.",
    "Three men are working on a roof.",
]


DOMAIN_NOTE = (
    "The translators learned from 29,000 image captions (Multi30k) and nothing else: a sentence that does not "
    "describe a picture (news, questions, long text) may come out as nonsense."
)


@dataclass(frozen=True, kw_only=True)
class TranslationResult:
    """One sentence through both translators, the same beam size.

    translation: models.translator.Translation with attention (source_tokens, target_tokens,
        text, attention float[len(target_tokens), len(source_tokens)] rows sum to 1,
        token_log_probs, log_prob, beams best first, unknown characters)
    baseline: the same without attention (its attention is None)
    split_words: source words cut into several subwords
    """

    translation: object
    baseline: object
    split_words: list[str]
    beam_size: int
    run: RunInfo

    @property
    def token_probs(self) -> np.ndarray:
        """float[len(target_tokens)], p(y_t | y_<t, x) of each token written."""
        return np.exp(self.translation.token_log_probs)

    @property
    def baseline_token_probs(self) -> np.ndarray:
        return np.exp(self.baseline.token_log_probs)


def split_words(tokens: list[str]) -> list[str]:
    """Words the BPE vocabulary cut into 2+ pieces: "▁skate" "board" -> "skateboard".

    A piece continues the word before it unless it starts with "▁", is a marker, or is
    punctuation (which the tokenizer always splits off on its own).
    """
    words, current = [], []
    for tok in tokens + ["</s>"]:
        continues = (
            not tok.startswith("▁")
            and tok not in ("</s>", "<unk>")
            and not (len(tok) == 1 and unicodedata.category(tok).startswith("P"))
        )
        if continues and current:
            current.append(tok)
            continue
        if len(current) > 1:
            words.append("".join(current).lstrip("▁"))
        current = [tok] if tok.startswith("▁") and tok != "▁" else []
    return words


def analyze(text: str, beam_size, translator, baseline) -> TranslationResult:
    """Translate `text` with beam search of `beam_size` (1 = greedy) by both models."""
    start = time.perf_counter()
    text, k, source = read(text, beam_size, translator)
    t = translator.translate(text, beam_size=k, source=source)
    b = baseline.translate(text, beam_size=k)
    return result(t, b, k, RunInfo(device=str(translator.device), seconds=time.perf_counter() - start))


def result(t, b, k: int, run: RunInfo) -> TranslationResult:
    return TranslationResult(translation=t, baseline=b, split_words=split_words(t.source_tokens), beam_size=k, run=run)


def analyze_many(requests: list[tuple], translator, baseline) -> list[TranslationResult | ValueError]:
    """Several queued (text, beam size) requests at once: the greedy ones (beam 1) share one
    batched search per translator, with and without attention; a beam search already runs its k
    hypotheses as one batch, so each runs on its own. A bad request gets its ValueError in its
    place and the others are translated."""
    start = time.perf_counter()
    read_requests: list = []
    for text, beam_size in requests:
        try:
            read_requests.append(read(text, beam_size, translator))
        except ValueError as err:
            read_requests.append(err)
    greedy = [r for r in read_requests if not isinstance(r, ValueError) and r[1] == 1]
    with_attention = iter(translator.translate_many([source for _, _, source in greedy]))
    without = iter(baseline.translate_many([baseline.encode_source(text) for text, _, _ in greedy]))
    seconds = time.perf_counter() - start
    answers: list = []
    for r in read_requests:
        if isinstance(r, ValueError):
            answers.append(r)
        elif r[1] == 1:
            run = RunInfo(device=str(translator.device), seconds=seconds, batch=len(greedy))
            answers.append(result(next(with_attention), next(without), 1, run))
        else:
            text, k, source = r
            began = time.perf_counter()
            t = translator.translate(text, beam_size=k, source=source)
            b = baseline.translate(text, beam_size=k)
            answers.append(result(t, b, k, RunInfo(device=str(translator.device), seconds=time.perf_counter() - began)))
    return answers


# -- figures ----------------------------------------------------------------------------
def alignment_figure(r: TranslationResult):
    t = r.translation
    cells = np.where(t.attention >= 0.1, np.vectorize(lambda a: f"{a:.2f}")(t.attention), "")
    # No plot title: the axis with the source tokens sits on top, and the tab's heading explains the map.
    return fg.heatmap(
        t.attention,
        t.target_tokens,
        t.source_tokens,
        x_title="source token",
        y_title="target token",
        cell_text=cells,
        colorscale="Blues",
        zmin=0,
        zmax=1,
        hover="α = %{z:.3f}",
        cell_px=26,
    )


def step_view(r: TranslationResult, t: int) -> tuple:
    """Step t: a bar of α_t over the source tokens, and the output so far with y_t marked."""
    tr = r.translation
    t = int(min(max(t, 0), len(tr.target_tokens) - 1))
    bars = fg.bar(
        tr.attention[t],
        [f"{s}: {tok}" for s, tok in enumerate(tr.source_tokens)],
        title=f"t = {t}: writing “{fg.label(tr.target_tokens[t])}” (p = {r.token_probs[t]:.2f})",
        x_title="attention weight α_ts over the source tokens",
        x_range=(0, 1),
        colors=["#2171b5" if a == tr.attention[t].max() else "#9ecae1" for a in tr.attention[t]],
    )
    written: list[tuple[str, str | None]] = [(tok, "written") for tok in tr.target_tokens[:t]]
    written.append((tr.target_tokens[t], f"step {t}"))
    return bars, written


def beams_table(r: TranslationResult) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "rank": i + 1,
                "translation": h.text,
                "log p": round(h.log_prob, 3),
                "score (length-normalized)": round(h.score, 3),
                "tokens": len(h.target_tokens),
            }
            for i, h in enumerate(r.translation.beams)
        ]
    )


def comparison_table(r: TranslationResult) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "model": "with attention (c_t = Σ α_ts h_s)",
                "translation": r.translation.text,
                "log p": round(r.translation.log_prob, 3),
                "tokens": len(r.translation.target_tokens),
                "mean p(token)": round(float(r.token_probs.mean()), 3),
            },
            {
                "model": "without attention (one fixed C)",
                "translation": r.baseline.text,
                "log p": round(r.baseline.log_prob, 3),
                "tokens": len(r.baseline.target_tokens),
                "mean p(token)": round(float(r.baseline_token_probs.mean()), 3),
            },
        ]
    )


def confidence_figure(r: TranslationResult):
    """p(y_t) per step for both models: without attention, confidence tends to sag as the output grows."""
    n = max(len(r.translation.target_tokens), len(r.baseline.target_tokens))
    pad = lambda p: list(p) + [None] * (n - len(p))  # noqa: E731 - the shorter output leaves a gap
    return fg.lines(
        [str(t) for t in range(n)],
        {"with attention": pad(r.token_probs), "without attention": pad(r.baseline_token_probs)},
        title="Probability of the token written at each step",
        x_title="decoding step t",
        y_title="p(y_t | y_<t, x)",
        y_range=(0, 1.05),
    )


@lru_cache(maxsize=1)
def bleu_by_length() -> dict | None:
    return json.loads(BLEU_BY_LENGTH.read_text(encoding="utf-8")) if BLEU_BY_LENGTH.exists() else None


# The evaluation's models, in the order a course meets them, with their names in the chart.
BLEU_LINES = {"no_attention": "without attention", "attention": "with attention", "transformer": "Transformer"}


def bleu_by_length_figure():
    """Test BLEU per source-length bucket, one line per translator (Bahdanau et al. 2015, fig. 2, plus the
    Transformer), from the evaluation data."""
    data = bleu_by_length()
    if data is None:
        return None
    x = [f"{b['label']} words ({b['count']})" for b in data["buckets"]]
    return fg.lines(
        x,
        {name: data["bleu"][variant] for variant, name in BLEU_LINES.items() if variant in data["bleu"]},
        title=f"Test BLEU by source length ({data['decoding']})",
        x_title="English source words (sentences in Multi30k test2016)",
        y_title="BLEU",
    )


def csv_cell(token: str) -> str:
    """A token as a CSV cell that a spreadsheet will not run as a formula (=, +, @ in front)."""
    return "'" + token if token[:1] in ("=", "+", "@") else token


def export_files(r: TranslationResult, folder: Path | None = None) -> list[str]:
    """The alignment as CSV (rows: target tokens; columns: source tokens) and as a PNG image."""
    folder = Path(folder or request_folder("translation"))
    csv_path, png_path = folder / "alignment.csv", folder / "alignment.png"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["target \\ source"] + [csv_cell(s) for s in r.translation.source_tokens])
        for tok, row in zip(r.translation.target_tokens, r.translation.attention):
            writer.writerow([csv_cell(tok)] + [f"{a:.5f}" for a in row])
    t = r.translation
    fg.heatmap_png(
        t.attention,
        t.target_tokens,
        t.source_tokens,
        png_path,
        title=f"{t.text}",
        x_title="source token",
        y_title="target token",
    )
    return [str(csv_path), str(png_path)]


def status_markdown(r: TranslationResult) -> str:
    t = r.translation
    lines = [
        f"**{plural(len(t.source_tokens), 'source token')} → {plural(len(t.target_tokens), 'target token')}** with "
        f"{'greedy search' if r.beam_size == 1 else f'beam search (k = {r.beam_size})'}, "
        f"both models, in {r.run.seconds * 1000:.0f} ms on {r.run.device}"
        + (f" (one batched search for {r.run.batch} queued requests)." if r.run.batch > 1 else ".")
    ]
    if t.unknown:
        lines.append(
            f"- Unknown to the model: {', '.join(fg.markdown_text(u) for u in t.unknown)} "
            "(no training caption had these characters; each became &lt;unk&gt;)."
        )
    if r.split_words:
        lines.append(
            f"- Words cut into subword pieces: {', '.join(fg.markdown_text(w) for w in r.split_words)} "
            "(rare or unseen words are spelled from known pieces)."
        )
    return "\n".join(lines)


def figures(r: TranslationResult) -> dict:
    """Everything the view shows for a result; the files (export_files) are written only on request."""
    return {
        "translation": r.translation.text,
        "status": status_markdown(r),
        "alignment": alignment_figure(r),
        "beams": beams_table(r),
        "comparison": comparison_table(r),
        "confidence": confidence_figure(r),
    }


# -- the endpoints and the tab -----------------------------------------------------------
def render(r: TranslationResult) -> dict:
    """The /translate answer by name; step 0 of the per-step view comes with it, the files do not."""
    bars, written = step_view(r, 0)
    return {**figures(r), "step_plot": bars, "written": written, "files": None, "result": r}


def show(text: str, beam_size, *, translator, baseline) -> dict:
    """/translate: an English sentence and the beam size -> both translations, alignment, beams, by name."""
    return render(analyze(text, beam_size, translator, baseline))


def show_many(requests: list[tuple], *, translator, baseline) -> list:
    """/translate with dynamic batching: the queued (text, beam size) requests together."""
    return analyze_many(requests, translator, baseline)


def need(r: TranslationResult | None) -> TranslationResult:
    if r is None:
        raise ValueError("Translate a sentence first.")
    return r


def show_step(r: TranslationResult | None, t: int) -> dict:
    bars, written = step_view(need(r), t)
    return {"step_plot": bars, "written": written}


def export(r: TranslationResult | None) -> dict:
    """/translate_export: the last answer's alignment as CSV and PNG."""
    return {"files": export_files(need(r))}


def build(view: View, runtime) -> FirstPaint:
    """The Translation attention tab inside the current gr.Blocks."""
    with gr.Row():
        with gr.Column(scale=3):
            # One line: a caption is one sentence, and Enter translates (it added a newline before).
            text = gr.Textbox(
                value=EXAMPLES[0],
                lines=1,
                elem_id="translate-text",
                **input_label("English sentence, one image caption", subwords=True),
            )
            gr.Markdown(DOMAIN_NOTE, elem_id="translate-domain")
            gr.Examples([[e] for e in EXAMPLES], inputs=text)
            beam_size = gr.Slider(
                1, MAX_BEAM, value=1, step=1, label="Beam size k (1 = greedy search)", elem_id="translate-beam"
            )
            go = gr.Button("Translate", variant="primary", elem_id="translate-go")
        with gr.Column(scale=2):
            teaching_note("translation")
    translation = gr.Textbox(label="German translation (with attention)", interactive=False, elem_id="translate-output")
    status = gr.Markdown(elem_id="translate-status")
    gr.Markdown(
        "### Alignment α_ts\nRow t: how much the decoder read each source token s while writing target token t "
        "(each row sums to 1). Hover a cell for its weight."
    )
    alignment = gr.Plot(show_label=False, elem_id="translate-alignment")
    with gr.Row():
        with gr.Column():
            step = gr.Slider(
                0,
                1,
                value=0,
                step=1,
                label="Decoding step t: attention over the source, output so far",
                elem_id="translate-step",
            )
            written = gr.HighlightedText(
                label="Output so far (y_<t) and the token written at step t",
                show_legend=False,
                color_map={"written": "#e0e0e0"},
                elem_id="translate-written",
            )
        step_plot = gr.Plot(show_label=False, elem_id="translate-step-plot")
    beams = gr.Dataframe(
        label="Beams, best first (log p = sum of token log-probabilities; ranked by the length-normalized score)",
        wrap=True,
    )
    gr.Markdown(
        "### The same sentence without attention\nThe baseline decoder reads one fixed context C at every step, "
        "so it has no alignment to draw."
    )
    comparison = gr.Dataframe(
        label="With vs without attention (same beam size)", wrap=True, elem_id="translate-comparison"
    )
    with gr.Row():
        confidence = gr.Plot(show_label=False)
        chart = bleu_by_length_figure()
        if chart is not None:
            gr.Plot(value=value(chart), show_label=False, elem_id="translate-bleu-by-length")
        else:
            gr.Markdown(
                "BLEU by source length appears here once `python -m training.evaluate_translator` has written "
                "`assets/translator/bleu_by_length.json`."
            )
    result = gr.State()
    # On request only: drawing the PNG costs far more than translating (the camera icon on the
    # heatmap saves the interactive one as PNG too).
    files = export_accordion(
        view.api_name,
        "Export the alignment: CSV (α, rows = target tokens) and PNG",
        runtime,
        export,
        [result],
        files_label="Alignment files",
    )
    outputs = {
        "translation": translation,
        "status": status,
        "alignment": alignment,
        "step": step,
        "step_plot": step_plot,
        "written": written,
        "beams": beams,
        "comparison": comparison,
        "confidence": confidence,
        "files": files,
        "result": result,
    }
    translate = endpoint(runtime, view.models, show, outputs)

    def step_slider(r: TranslationResult):
        """The step slider for this translation: one position per target token."""
        n = len(r.translation.target_tokens)
        return gr.Slider(minimum=0, maximum=max(1, n - 1), value=0, step=1, interactive=n > 1)

    def run(text: str, beam_size: int):
        answer = translate(text, beam_size)
        return {**answer, step: step_slider(answer[result])}

    # The API (Enter, the button, the beam slider): queued requests share one greedy search,
    # answered by request (a bad one in its status line) and cached under the same key as `show`.
    batch = batching_enabled()
    run_batch = batched(
        runtime,
        view.models,
        show_many,
        lambda r, *_inputs: render(r),
        outputs,
        "status",
        same_as=show,
        complete=lambda answer: {**answer, "step": step_slider(answer["result"])},
    )
    gr.on(
        [go.click, text.submit, beam_size.release],
        run_batch if batch else run,
        [text, beam_size],
        list(outputs.values()),
        api_name=view.api_name,
        trigger_mode="always_last",
        show_progress="minimal",
        **(batched_event() if batch else {}),
    )

    def rerun(text: str, beam_size: int, previous: TranslationResult | None):
        answer = run(text, beam_size)
        same = previous is not None and answer[result].translation.target_tokens == previous.translation.target_tokens
        if same:  # the same translation again (a deep link's fill, a repeated example): the step stays
            for shown_at_step in (step, step_plot, written):
                answer.pop(shown_at_step, None)
        return answer

    # Typing and example clicks translate as well (always the newest text): an output never
    # sits under a sentence it was not computed from.
    text.change(
        live(rerun, status, list(outputs.values())),
        [text, beam_size, result],
        list(outputs.values()),
        api_name=False,
        trigger_mode="always_last",
        show_progress="minimal",
    )
    step.change(
        endpoint(runtime, {}, show_step, outputs),
        [result, step],
        [step_plot, written],
        api_name=False,
        show_progress="hidden",
    )
    shown = list(outputs.values())
    components = {"text": text, "beam_size": beam_size, "step": step}
    return FirstPaint(live(run, status, shown), [text, beam_size], shown, components=components)


VIEW = View(
    title="Translation attention",
    api_name="translate",
    models={"translator": "translator/attention", "baseline": "translator/no_attention"},
    inputs=("text", "beam_size"),
    handler=show,
    analyze=analyze,
    figures=figures,
    build=build,
    examples=tuple({"text": e, "beam_size": 1} for e in EXAMPLES),
    limits={"text": MAX_SOURCE_TOKENS, "beam_size": MAX_BEAM},
    floor="models.floors:translation",
    sample=lambda tokens, models: {
        "text": sample_text(lambda t: len(models["translator"].encode_source(t)[0]), tokens),
        "beam_size": 1,
    },
    links=(
        text_param("text", "text", "The sentence"),
        Param("beam", "beam_size", "The beam size", "int", 1, MAX_BEAM),
        Param(
            "step",
            "step",
            "The decoding step",
            "int",
            0,
            max_decoding_step(MODELS["translator/attention"].shape["max_length_ratio"]),
            reset=True,
        ),
    ),
)
