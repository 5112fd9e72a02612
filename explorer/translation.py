"""Decoder attention alignments: an English sentence -> its German translation, the weights α_ts
the decoder put on each source token at each step, the beams, and the same sentence through the
encoder-decoder without attention.

analyze(text, beam_size, translator, baseline) -> TranslationResult -> figures(result) and
step_view(result, t) -> the Gradio tab.
"""
from __future__ import annotations

import csv
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as fg
from .exports import request_folder
from .limits import check_beam_size, check_source_tokens, clean_text

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "translator"  # models.translator.ASSETS, without importing torch
BLEU_BY_LENGTH = ASSETS / "bleu_by_length.json"
EXAMPLES = ["A man in a blue shirt is riding a bike down the street.",
            "Two young girls are playing with a ball on the beach.",
            "A black dog jumps over a log in the snow while its owner watches from a red bench.",
            "A group of people are standing in front of an igloo."]


@dataclass
class TranslationResult:
    """One sentence through both translators.

    source_tokens: list[str], English subwords ("▁" starts a word) and the end marker "</s>"
    target_tokens: list[str], German subwords of the best output, ending with "</s>"
    text: str, the detokenized translation
    attention: float[len(target_tokens), len(source_tokens)], α_ts, rows sum to 1
    token_probs: float[len(target_tokens)], p(y_t | y_<t, x) of each token written
    beams: DataFrame-ready rows (rank, translation, log p, score, tokens), best first
    baseline_text / baseline_tokens / baseline_token_probs: the no-attention model, same beam size
    unknown: source characters that became "<unk>"; split_words: words cut into several subwords
    """

    source_tokens: list[str]
    target_tokens: list[str]
    text: str
    attention: np.ndarray
    token_probs: np.ndarray
    log_prob: float
    beams: list[dict]
    baseline_text: str
    baseline_tokens: list[str]
    baseline_token_probs: np.ndarray
    baseline_log_prob: float
    unknown: list[str]
    split_words: list[str]
    beam_size: int
    device: str
    seconds: float


def split_words(tokens: list[str]) -> list[str]:
    """Words the BPE vocabulary cut into 2+ pieces: "▁skate" "board" -> "skateboard".

    A piece continues the word before it unless it starts with "▁", is a marker, or is
    punctuation (which the tokenizer always splits off on its own).
    """
    words, current = [], []
    for tok in tokens + ["</s>"]:
        continues = not tok.startswith("▁") and tok not in ("</s>", "<unk>") and not (
            len(tok) == 1 and unicodedata.category(tok).startswith("P"))
        if continues and current:
            current.append(tok)
            continue
        if len(current) > 1:
            words.append("".join(current).lstrip("▁"))
        current = [tok] if tok.startswith("▁") and tok != "▁" else []
    return words


def analyze(text: str, beam_size: int = 1, translator=None, baseline=None) -> TranslationResult:
    """Translate `text` with beam search of `beam_size` (1 = greedy) by both models."""
    from models import registry

    start = time.perf_counter()
    k = check_beam_size(beam_size)
    text = " ".join(clean_text(text, "The sentence").split())  # newlines and tabs: the captions are one line
    translator = translator or registry.translator("attention")
    baseline = baseline or registry.translator("no_attention")
    ids, _, _ = translator.encode_source(text)
    check_source_tokens(len(ids))
    t = translator.translate(text, beam_size=k)
    b = baseline.translate(text, beam_size=k)
    beams = [{"rank": i + 1, "translation": h.text, "log p": round(h.log_prob, 3),
              "score (length-normalized)": round(h.score, 3), "tokens": len(h.target_tokens)} for i, h in enumerate(t.beams)]
    return TranslationResult(t.source_tokens, t.target_tokens, t.text, t.attention, np.exp(t.token_log_probs), t.log_prob,
                             beams, b.text, b.target_tokens, np.exp(b.token_log_probs), b.log_prob, t.unknown,
                             split_words(t.source_tokens), k, str(translator.device), time.perf_counter() - start)


# -- figures ----------------------------------------------------------------------------
def alignment_figure(r: TranslationResult):
    cells = np.where(r.attention >= 0.1, np.vectorize(lambda a: f"{a:.2f}")(r.attention), "")
    # No plot title: the axis with the source tokens sits on top, and the tab's heading explains the map.
    return fg.heatmap(r.attention, r.target_tokens, r.source_tokens, x_title="source token", y_title="target token", cell_text=cells, colorscale="Blues", zmin=0, zmax=1,
                      hover="α = %{z:.3f}", cell_px=26)


def step_view(r: TranslationResult, t: int) -> tuple:
    """Step t: a bar of α_t over the source tokens, and the output so far with y_t marked."""
    t = int(min(max(t, 0), len(r.target_tokens) - 1))
    bars = fg.bar(r.attention[t], [f"{s}: {tok}" for s, tok in enumerate(r.source_tokens)],
                  title=f"t = {t}: writing “{fg.label(r.target_tokens[t])}” (p = {r.token_probs[t]:.2f})",
                  x_title="attention weight α_ts over the source tokens", x_range=(0, 1),
                  colors=["#2171b5" if a == r.attention[t].max() else "#9ecae1" for a in r.attention[t]])
    written: list[tuple[str, str | None]] = [(tok, "written") for tok in r.target_tokens[:t]]
    written.append((r.target_tokens[t], f"step {t}"))
    return bars, written


def beams_table(r: TranslationResult) -> pd.DataFrame:
    return pd.DataFrame(r.beams)


def comparison_table(r: TranslationResult) -> pd.DataFrame:
    return pd.DataFrame([
        {"model": "with attention (c_t = Σ α_ts h_s)", "translation": r.text, "log p": round(r.log_prob, 3),
         "tokens": len(r.target_tokens), "mean p(token)": round(float(r.token_probs.mean()), 3)},
        {"model": "without attention (one fixed C)", "translation": r.baseline_text, "log p": round(r.baseline_log_prob, 3),
         "tokens": len(r.baseline_tokens), "mean p(token)": round(float(r.baseline_token_probs.mean()), 3)},
    ])


def confidence_figure(r: TranslationResult):
    """p(y_t) per step for both models: without attention, confidence tends to sag as the output grows."""
    n = max(len(r.target_tokens), len(r.baseline_tokens))
    pad = lambda p: list(p) + [None] * (n - len(p))  # noqa: E731 - the shorter output leaves a gap
    return fg.lines([str(t) for t in range(n)], {"with attention": pad(r.token_probs), "without attention": pad(r.baseline_token_probs)},
                    title="Probability of the token written at each step", x_title="decoding step t",
                    y_title="p(y_t | y_<t, x)", y_range=(0, 1.05))


@lru_cache(maxsize=1)
def bleu_by_length() -> dict | None:
    from models.text import read_json

    return read_json(BLEU_BY_LENGTH) if BLEU_BY_LENGTH.exists() else None


def bleu_by_length_figure():
    """Test BLEU per source-length bucket, both models (Bahdanau et al. 2015, fig. 2), from the evaluation data."""
    data = bleu_by_length()
    if data is None:
        return None
    x = [f"{b['label']} words ({b['count']})" for b in data["buckets"]]
    return fg.lines(x, {"with attention": data["bleu"]["attention"], "without attention": data["bleu"]["no_attention"]},
                    title=f"Test BLEU by source length ({data['decoding']})",
                    x_title="English source words (sentences in Multi30k test2016)", y_title="BLEU")


def csv_cell(token: str) -> str:
    """A token as a CSV cell that a spreadsheet will not run as a formula (=, +, @ in front)."""
    return "'" + token if token[:1] in ("=", "+", "@") else token


def export_files(r: TranslationResult, folder: Path | None = None) -> list[str]:
    """The alignment as CSV (rows: target tokens; columns: source tokens) and as a PNG image."""
    folder = Path(folder or request_folder("translation"))
    csv_path, png_path = folder / "alignment.csv", folder / "alignment.png"
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["target \\ source"] + [csv_cell(s) for s in r.source_tokens])
        for tok, row in zip(r.target_tokens, r.attention):
            writer.writerow([csv_cell(tok)] + [f"{a:.5f}" for a in row])
    fg.heatmap_png(r.attention, r.target_tokens, r.source_tokens, png_path, title=f"{r.text}",
                   x_title="source token", y_title="target token")
    return [str(csv_path), str(png_path)]


def status_markdown(r: TranslationResult) -> str:
    lines = [f"**{len(r.source_tokens)} source tokens → {len(r.target_tokens)} target tokens** with "
             f"{'greedy search' if r.beam_size == 1 else f'beam search (k = {r.beam_size})'}, "
             f"both models, in {r.seconds * 1000:.0f} ms on {r.device}."]
    if r.unknown:
        lines.append(f"- Unknown to the model: {', '.join(fg.markdown_text(u) for u in r.unknown)} "
                     "(no training caption had these characters; each became &lt;unk&gt;).")
    if r.split_words:
        lines.append(f"- Words cut into subword pieces: {', '.join(fg.markdown_text(w) for w in r.split_words)} "
                     "(rare or unseen words are spelled from known pieces).")
    return "\n".join(lines)


def figures(r: TranslationResult) -> dict:
    """Everything the view shows for a result; the files (export_files) are written only on request."""
    return {
        "translation": r.text,
        "status": status_markdown(r),
        "alignment": alignment_figure(r),
        "beams": beams_table(r),
        "comparison": comparison_table(r),
        "confidence": confidence_figure(r),
    }


# -- the Gradio tab -------------------------------------------------------------------
def tab():
    """Build the Translation attention tab inside the current gr.Blocks; returns the load event's pieces."""
    import gradio as gr

    from .limits import MAX_BEAM, input_label
    from .ui import plot, teaching_note, user_errors

    @user_errors
    def run(text: str, beam_size: int):
        r = analyze(text, beam_size)
        f = figures(r)
        bars, written = step_view(r, 0)
        slider = gr.Slider(minimum=0, maximum=max(1, len(r.target_tokens) - 1), value=0, step=1, interactive=len(r.target_tokens) > 1)
        return (f["translation"], f["status"], plot(f["alignment"]), slider, plot(bars), written, f["beams"], f["comparison"],
                plot(f["confidence"]), None, r)

    def need(r: TranslationResult | None) -> TranslationResult:
        if r is None:
            raise ValueError("Translate a sentence first.")
        return r

    @user_errors
    def show_step(r: TranslationResult | None, t: int):
        bars, written = step_view(need(r), t)
        return plot(bars), written

    @user_errors
    def export(r: TranslationResult | None):
        return export_files(need(r))

    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=EXAMPLES[0], lines=2, elem_id="translate-text",
                              **input_label("English sentence, one image caption", subwords=True))
            gr.Examples([[e] for e in EXAMPLES], inputs=text)
            beam_size = gr.Slider(1, MAX_BEAM, value=1, step=1, label="Beam size k (1 = greedy search)", elem_id="translate-beam")
            go = gr.Button("Translate", variant="primary", elem_id="translate-go")
        with gr.Column(scale=2):
            teaching_note("translation")
    translation = gr.Textbox(label="German translation (with attention)", interactive=False, elem_id="translate-output")
    status = gr.Markdown(elem_id="translate-status")
    gr.Markdown("### Alignment α_ts\nRow t: how much the decoder read each source token s while writing target token t "
                "(each row sums to 1). Hover a cell for its weight.")
    alignment = gr.Plot(show_label=False, elem_id="translate-alignment")
    with gr.Row():
        with gr.Column():
            step = gr.Slider(0, 1, value=0, step=1, label="Decoding step t: attention over the source, output so far", elem_id="translate-step")
            written = gr.HighlightedText(label="Output so far (y_<t) and the token written at step t", show_legend=False,
                                         color_map={"written": "#e0e0e0"}, elem_id="translate-written")
        step_plot = gr.Plot(show_label=False, elem_id="translate-step-plot")
    beams = gr.Dataframe(label="Beams, best first (log p = sum of token log-probabilities; ranked by the length-normalized score)",
                         wrap=True)
    gr.Markdown("### The same sentence without attention\nThe baseline decoder reads one fixed context C at every step, "
                "so it has no alignment to draw.")
    comparison = gr.Dataframe(label="With vs without attention (same beam size)", wrap=True, elem_id="translate-comparison")
    with gr.Row():
        confidence = gr.Plot(show_label=False)
        chart = bleu_by_length_figure()
        if chart is not None:
            gr.Plot(value=plot(chart), show_label=False, elem_id="translate-bleu-by-length")
        else:
            gr.Markdown("BLEU by source length appears here once `python -m training.evaluate_translator` has written "
                        "`assets/translator/bleu_by_length.json`.")
    with gr.Accordion("Export", open=False):
        # On request only: drawing the PNG costs far more than translating (the camera icon on
        # the heatmap saves the interactive one as PNG too).
        export_button = gr.Button("Export the alignment: CSV (α, rows = target tokens) and PNG", elem_id="translate-export")
        files = gr.File(label="Alignment files", file_count="multiple", interactive=False, elem_id="translate-files")
    result = gr.State()
    outputs = [translation, status, alignment, step, step_plot, written, beams, comparison, confidence, files, result]
    gr.on([go.click, text.submit, beam_size.release], run, [text, beam_size], outputs, api_name="translate",
          trigger_mode="always_last", show_progress="minimal")
    step.change(show_step, [result, step], [step_plot, written], api_name=False, show_progress="hidden")
    export_button.click(export, [result], [files], api_name="translate_export")
    return run, [text, beam_size], outputs
