"""The Transformer's attentions on one sentence: encoder self-attention, the decoder's masked
self-attention, cross-attention, each as a layers x heads grid, one head, the head average and
step by step; its word alignment beside the GRU's on the same German output; and how the
alignment of a few validation captions grew over the training epochs.

analyze(text, beam_size, transformer, gru) -> TransformerResult -> figures(result, kind, layer,
head, step), step_figures(result, step), bertviz_html(result), write_exports(result, folder);
history_figure(load_history(), epoch). No gradio and no torch here: the tab does the wiring.
"""

from __future__ import annotations

import json
import string
import time
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.contract import RunInfo
from explorer.core import figures as fg
from explorer.core.limits import check_translation, check_whole
from explorer.core.plural import plural
from explorer.core.safe_html import bertviz_encoder_decoder_iframe, script_sources
from explorer.core.text_alignment import line_up
from explorer.web.exports import request_folder

# models.transformer.ASSETS, without importing torch
ASSETS = Path(__file__).resolve().parents[3] / "assets" / "translator" / "transformer"
HISTORY = ASSETS / "attention_history.json"
KINDS = ("encoder", "decoder", "cross")
KIND_TITLES = {
    "encoder": "Encoder self-attention (source → source)",
    "decoder": "Decoder masked self-attention (y → y_≤t)",
    "cross": "Cross-attention (decoder queries → encoder keys and values)",
}
SHORT_TITLES = {
    "encoder": "Encoder self-attention",
    "decoder": "Decoder masked self-attention",
    "cross": "Cross-attention",
}
MASKED_NOTE = "masked: y may not look ahead"
END = "</s>"
# Captions the bundled Transformer translates right (checked by eye; tests/test_transformer_view.py
# checks that the German keeps the key words).
EXAMPLES = [
    "A man is riding a bike.",
    "Two young girls are playing with a ball on the beach.",
    "A woman in a red dress is singing on a stage.",
    "A brown dog is running through the grass.",
    "Three men are working on a roof.",
]


@dataclass(frozen=True, kw_only=True)
class WordAlignment:
    """Both models' alignments of one (English, German) pair at word level, on the words both read.

    source_words: list[str] (V), target_words: list[str] (U): the words both tokenizations have,
        in order (text_alignment.line_up of the two word lists; "</s>" is a word of its own)
    transformer, gru: float[U, V], W[u, v] = mean over u's target subwords of the sum over v's
        source subwords of the subword attention (rows sum to 1 unless a source word is missing
        from one tokenization)
    same_choice: bool[U], whether row u's most-attended source word ("</s>" aside) is the same in both;
        compared: bool[U], the rows counted (every target word but "</s>")
    """

    source_words: list[str]
    target_words: list[str]
    transformer: np.ndarray
    gru: np.ndarray
    same_choice: np.ndarray
    compared: np.ndarray

    @property
    def count(self) -> int:
        """How many target words were compared."""
        return int(self.compared.sum())

    @property
    def agreement(self) -> float | None:
        """Share of compared target words whose most-attended source word is the same; None without any."""
        return float(self.same_choice[self.compared].mean()) if self.count else None


@dataclass(frozen=True, kw_only=True)
class TransformerResult:
    """One sentence through the Transformer, and the GRU's attention on the same output.

    translation: models.transformer.TransformerTranslation: source_tokens (S, ending "</s>"),
        target_tokens (T, ending "</s>"), text, encoder_attention float[L, H, S, S],
        decoder_attention float[L, H, T, T] (row t: the decoder input that writes
        target_tokens[t]; 0 above the diagonal), cross_attention float[L, H, T, S], attention
        float[T, S] (head mean of cross_attention[alignment_layer]), beams, token_log_probs
    gru: models.decoding.Translation of the GRU with additive attention, teacher-forced on
        translation.text (Translator.force): its own subwords, attention float[T', S'] = α
    alignment_layer: 0-based decoder layer whose head-mean cross-attention is translation.attention
    words: WordAlignment of the two, with the agreement
    """

    translation: object
    gru: object
    beam_size: int
    alignment_layer: int
    words: WordAlignment
    run: RunInfo

    @property
    def layers(self) -> int:
        return self.translation.cross_attention.shape[0]

    @property
    def heads(self) -> int:
        return self.translation.cross_attention.shape[1]

    @property
    def decoder_inputs(self) -> list[str]:
        """The T tokens the decoder reads: <s>, then each target token but the last (teacher forcing)."""
        return ["<s>"] + list(self.translation.target_tokens[:-1])


# -- words from subwords -------------------------------------------------------------------
def is_punctuation(token: str) -> bool:
    """One punctuation character: the tokenizers' Punctuation pre-tokenizer makes it a word of its own
    (ASCII punctuation, e.g. "$" or "-", and Unicode's P* categories)."""
    return len(token) == 1 and (token in string.punctuation or unicodedata.category(token).startswith("P"))


def word_units(tokens: list[str]) -> tuple[list[str], np.ndarray]:
    """Subwords -> the words the tokenizer's pre-tokenizer cut (Metaspace, then Punctuation):
    (words, int[len(tokens)] the word of each subword). A word starts at "▁", at a punctuation
    character, after one, and at a special token; "▁skate" "board" -> "skateboard"."""
    words: list[str] = []
    unit = np.empty(len(tokens), dtype=np.int64)
    boundary_before = True
    for i, token in enumerate(tokens):
        special = token.startswith("<") and token.endswith(">") and len(token) > 2 and token != "<unk>"
        alone = special or is_punctuation(token)
        if boundary_before or alone or token.startswith("▁"):
            words.append(token.lstrip("▁") or token)
        else:
            words[-1] += token
        unit[i] = len(words) - 1
        boundary_before = alone
    return words, unit


def word_alignment(attention: np.ndarray, target_unit: np.ndarray, source_unit: np.ndarray) -> np.ndarray:
    """W[u, v] = 1/|u| Σ_{t∈u} Σ_{s∈v} A[t, s]: sum over a source word's subwords, mean over a target
    word's (Clark et al. 2019's word-level attention, rectangular); A float[T, S] -> float[U, V]."""
    U, V = int(target_unit.max()) + 1, int(source_unit.max()) + 1
    target_onehot = np.zeros((len(target_unit), U))
    target_onehot[np.arange(len(target_unit)), target_unit] = 1.0
    source_onehot = np.zeros((len(source_unit), V))
    source_onehot[np.arange(len(source_unit)), source_unit] = 1.0
    return (target_onehot / target_onehot.sum(axis=0)).T @ attention @ source_onehot


def most_attended(W: np.ndarray, source_words: list[str]) -> np.ndarray:
    """int[U]: each row's most-attended source word, "</s>" left out (-1 when no other word exists)."""
    candidates = np.array([w != END for w in source_words], dtype=bool)
    if not candidates.any():
        return np.full(W.shape[0], -1)
    return np.flatnonzero(candidates)[W[:, candidates].argmax(axis=1)]


def same_choice(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """bool[U]: both picked the same source word (no pick, -1, never agrees)."""
    return (a == b) & (a >= 0)


def align_words(transformer_translation, gru_translation) -> WordAlignment:
    """The two alignments at word level, on the words both tokenizations share (line_up), and where they agree.

    Agreement: of the target words (all but "</s>"), the share whose most-attended source word
    (argmax over the source words but "</s>" of W[u, v]) is the same in both models' word-level
    alignments. "</s>" is left out of the argmax because the GRU parks most of its α there (an
    attention sink: half or more of a row on "A man is riding a bike."), which says "no source
    word needed now", not which word aligns.
    """
    t, g = transformer_translation, gru_translation
    (t_source, t_source_unit), (g_source, g_source_unit) = word_units(t.source_tokens), word_units(g.source_tokens)
    (t_target, t_target_unit), (g_target, g_target_unit) = word_units(t.target_tokens), word_units(g.target_tokens)
    columns, rows = line_up(t_source, g_source), line_up(t_target, g_target)
    W_t = word_alignment(t.attention, t_target_unit, t_source_unit)[
        np.ix_([i for i, _ in rows], [i for i, _ in columns])
    ]
    W_g = word_alignment(g.attention, g_target_unit, g_source_unit)[
        np.ix_([j for _, j in rows], [j for _, j in columns])
    ]
    target_words, source_words = [t_target[i] for i, _ in rows], [t_source[i] for i, _ in columns]
    return WordAlignment(
        source_words=source_words,
        target_words=target_words,
        transformer=W_t,
        gru=W_g,
        same_choice=same_choice(most_attended(W_t, source_words), most_attended(W_g, source_words)),
        compared=np.array([w != END for w in target_words], dtype=bool),
    )


# -- analyze -------------------------------------------------------------------------------
def analyze(text: str, beam_size, transformer, gru) -> TransformerResult:
    """Translate `text` with the Transformer (beam_size 1 = greedy, up to MAX_BEAM), teacher-force
    the GRU with attention (models.translator.Translator.force) on the Transformer's German, and
    compare the two alignments word by word (align_words)."""
    start = time.perf_counter()
    text, k, source = check_translation(text, beam_size, transformer)
    t = transformer.translate(text, beam_size=k, source=source)
    g = gru.force(text, t.text)
    L = t.cross_attention.shape[0]
    return TransformerResult(
        translation=t,
        gru=g,
        beam_size=k,
        alignment_layer=transformer.model.config.alignment_index % L,
        words=align_words(t, g),
        run=RunInfo(device=str(transformer.device), seconds=time.perf_counter() - start),
    )


# -- figures: numpy in, plotly specs and escaped markdown out -------------------------------
def check_view(r: TransformerResult, kind: str, layer, head) -> tuple[int, int | None]:
    """kind, 1-based layer and head from the UI -> (layer index, head index or None for the head
    average, which head = 0 asks for); ValueError naming what exists."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {str(kind)[:40]!r}.")
    layer = check_whole(layer, 1, r.layers, "layer")
    head = check_whole(head, 0, r.heads, "head (0 = the average of the heads)")
    return layer - 1, (head - 1 if head else None)


def attention_of(r: TransformerResult, kind: str) -> tuple[np.ndarray, list[str], list[str], np.ndarray | None]:
    """(float[L, H, Q, K], query labels, key labels, masked bool[Q, K] or None) of one kind of attention.

    Decoder and cross-attention queries are the decoder's positions: row t reads input y_{t-1}
    (<s> at t = 0) and writes target_tokens[t], labelled "t: input → output".
    """
    t = r.translation
    source = fg.numbered(t.source_tokens)
    if kind == "encoder":
        return t.encoder_attention, source, source, None
    steps = [f"{i}: {a} → {b}" for i, (a, b) in enumerate(zip(r.decoder_inputs, t.target_tokens))]
    if kind == "decoder":
        T = len(t.target_tokens)
        return t.decoder_attention, steps, fg.numbered(r.decoder_inputs), ~np.tri(T, dtype=bool)
    return t.cross_attention, steps, source, None


def grid_figure(r: TransformerResult, kind: str) -> dict:
    A, queries, keys, masked = attention_of(r, kind)
    return fg.head_grid(
        A,
        queries,
        key_tokens=keys,
        masked=masked,
        masked_note=MASKED_NOTE,
        title=f"{KIND_TITLES[kind]}: {r.layers} layers × {r.heads} heads; row = query, column = key",
        map_px=max(64, min(180, 540 // r.layers)),  # few layers (this model has 3): taller maps
    )


def attention_map(z: np.ndarray, queries, keys, masked, title: str, kind: str, y_title: str | None = None) -> dict:
    """One [Q, K] map (a head, or the head average) with numbered labels; masked cells grey, not 0."""
    z = np.round(z, 3)
    small = z.shape[0] <= 16 and z.shape[1] <= 16
    text = np.vectorize(lambda p: f"{p:.2f}" if p >= 0.01 else "")(z) if small else None
    if text is not None and masked is not None:
        text[masked] = ""
    return fg.heatmap(
        z.astype(np.float32),
        queries,
        keys,
        title=title,
        x_title="source token (key)" if kind != "decoder" else "decoder input (key)",
        y_title=y_title
        if y_title is not None
        else ("source token (query)" if kind == "encoder" else "decoder step t: input → output (query)"),
        zmin=0,
        zmax=1,
        cell_text=text,
        cell_px=24 if z.shape[0] <= 30 else 14,
        masked=masked,
        masked_note=MASKED_NOTE,
    )


def zoom_figure(r: TransformerResult, kind: str, layer, head) -> dict:
    """One head of `kind` (layer, head 1-based; head 0 = the mean over the heads)."""
    l, h = check_view(r, kind, layer, head)
    A, queries, keys, masked = attention_of(r, kind)
    z = A[l].mean(axis=0) if h is None else A[l, h]
    which = "mean of its heads" if h is None else f"head {h + 1}"
    return attention_map(z, queries, keys, masked, f"{SHORT_TITLES[kind]}, layer {l + 1}, {which}", kind)


def head_average_figure(r: TransformerResult, kind: str, layer) -> dict:
    return zoom_figure(r, kind, layer, 0)


def written(r: TransformerResult, step: int) -> list[tuple[str, str | None]]:
    """The output so far (y_<t, "written") and the token written at step t, for a highlighted text."""
    tokens = r.translation.target_tokens
    return [(token, "written") for token in tokens[:step]] + [(tokens[step], f"step {step}")]


def check_step(r: TransformerResult, step) -> int:
    """A decoding step t from the UI: 0 .. len(target_tokens) - 1."""
    return check_whole(step, 0, len(r.translation.target_tokens) - 1, "step")


def step_figures(r: TransformerResult, step, layer=None, head=0) -> dict:
    """Step t of decoding: the decoder's self-attention row t over its inputs (y_<t; the future
    masked), the cross-attention row t over the source, and the tokens written so far.
    layer (1-based) defaults to the alignment layer, head 0 = the mean over heads."""
    t = check_step(r, step)
    layer = r.alignment_layer + 1 if layer is None else layer
    l, h = check_view(r, "cross", layer, head)
    pick = (lambda A: A[l].mean(axis=0)) if h is None else (lambda A: A[l, h])
    which = f"layer {l + 1}, " + ("mean of the heads" if h is None else f"head {h + 1}")
    tr = r.translation
    # Escaped: plotly reads a title's "<s>" (the decoder's first input) as strike-through markup.
    writing = f"t = {t}: reading “{fg.label(r.decoder_inputs[t])}”, writing “{fg.label(tr.target_tokens[t])}”"
    T = len(tr.target_tokens)
    decoder_row = pick(tr.decoder_attention)[t : t + 1]  # (1, T)
    cross_row = pick(tr.cross_attention)[t : t + 1]  # (1, S)
    row_label = [f"{t}: {r.decoder_inputs[t]} → {tr.target_tokens[t]}"]
    return {
        "decoder_step": attention_map(
            decoder_row, row_label, fg.numbered(r.decoder_inputs), np.arange(T)[None, :] > t,
            f"t = {t}: decoder self-attention over y_<t ({which})", "decoder", "",
        ),
        "cross_step": attention_map(
            cross_row, row_label, fg.numbered(tr.source_tokens), None,
            f"{writing}: cross-attention over the source ({which})", "cross", "",
        ),
        "written": written(r, t),
    }  # fmt: skip


def alignment_pair_figure(r: TransformerResult) -> dict:
    """The Transformer's word alignment beside the GRU's (teacher-forced on the same German)."""
    w = r.words
    maps = [
        fg.heatmap(
            np.round(z, 3).astype(np.float32),
            fg.numbered(w.target_words),
            fg.numbered(w.source_words),
            x_title="source word",
            y_title="target word",
            zmin=0,
            zmax=1,
            cell_text=np.vectorize(lambda p: f"{p:.2f}" if p >= 0.1 else "")(z) if len(w.source_words) <= 16 else None,
            cell_px=24,
        )
        for z in (w.gru, w.transformer)
    ]
    return fg.side_by_side(
        *maps,
        ("GRU: additive attention α (teacher-forced on the Transformer's output)",
         f"Transformer: layer {r.alignment_layer + 1} cross-attention, mean of {r.heads} heads"),
        title=agreement_text(r),
    )  # fmt: skip


def agreement_text(r: TransformerResult) -> str:
    w = r.words
    if w.agreement is None:
        return "No target words to compare."
    return (
        f"Agreement {w.agreement:.0%}: {int(w.same_choice[w.compared].sum())} of "
        f"{plural(w.count, 'target word')} have the same most-attended source word in both models"
    )


def status_markdown(r: TransformerResult) -> str:
    t = r.translation
    search = "greedy search" if r.beam_size == 1 else f"beam search (k = {r.beam_size})"
    lines = [
        f"**{plural(len(t.source_tokens), 'source token')} → {plural(len(t.target_tokens), 'target token')}** "
        f"with {search}; {r.layers} layers × {r.heads} heads; the GRU teacher-forced on the same German; "
        f"{r.run.seconds * 1000:.0f} ms on {r.run.device}.",
        f"- {agreement_text(r)}.",
    ]
    if t.unknown:
        lines.append(
            f"- Unknown to the model: {', '.join(fg.markdown_text(u) for u in t.unknown)} "
            "(no training caption had these characters; each became &lt;unk&gt;)."
        )
    return "\n".join(lines)


def figures(r: TransformerResult, kind: str = "cross", layer=None, head: int = 0, step: int = 0) -> dict:
    """Everything the view shows for a result, by name. kind: "encoder" | "decoder" | "cross";
    layer 1-based (None: the alignment layer); head 1-based, 0 = the mean over the heads; step: t."""
    layer = r.alignment_layer + 1 if layer is None else layer
    return {
        "translation": r.translation.text,
        "status": status_markdown(r),
        **{f"{k}_grid": grid_figure(r, k) for k in KINDS},
        "zoom": zoom_figure(r, kind, layer, head),
        "head_average": head_average_figure(r, kind, layer),
        **step_figures(r, step, layer, head),
        "alignment_pair": alignment_pair_figure(r),
        "agreement": agreement_text(r),
    }


def bertviz_html(r: TransformerResult, view: str = "model") -> str:
    """bertviz's model (or head) view of all three attentions, offline, in a sandboxed iframe
    (explorer/core/safe_html.py escapes every token). ValueError past MAX_BERTVIZ_TOKENS."""
    t = r.translation
    return bertviz_encoder_decoder_iframe(
        view,
        t.source_tokens,
        r.decoder_inputs,
        t.encoder_attention,
        t.decoder_attention,
        t.cross_attention,
        script_sources()[0],
    )


# -- the training history: assets/translator/transformer/attention_history.json -------------
@lru_cache(maxsize=1)
def load_history() -> dict | None:
    """{"layers", "sources", "source_tokens", "epochs": [{"epoch", "val_bleu", "sentences":
    [{"target_tokens", "cross_attention" [layers][T][S]}]}]}; None when the file is missing."""
    return json.loads(HISTORY.read_text(encoding="utf-8")) if HISTORY.exists() else None


@lru_cache(maxsize=1)
def saved_alignment_layer() -> int:
    """The bundled model's alignment_layer (config.json; -2 = the penultimate decoder layer)."""
    return int(json.loads((ASSETS / "config.json").read_text(encoding="utf-8"))["model"]["alignment_layer"])


def history_figure(history: dict | None, epoch, sentence: int = 0, layer: int | None = None) -> dict:
    """One validation caption's head-mean cross-attention after `epoch` (layer 1-based; default
    the model's alignment layer), and val BLEU by epoch with that epoch marked."""
    if history is None:
        note = "The training history appears once python -m training.train_transformer has written it."
        return {"history_alignment": fg.message(note), "history_bleu": fg.message(note), "history_status": note}
    epochs = history["epochs"]
    numbers = [e["epoch"] for e in epochs]
    epoch = check_whole(epoch, numbers[0], numbers[-1], "epoch")  # the history holds every epoch in between
    sentence = check_whole(sentence, 0, len(history["sources"]) - 1, "caption")
    L = history["layers"]
    l = (saved_alignment_layer() if layer is None else int(layer) - 1) % L
    e = epochs[numbers.index(epoch)]
    caption = e["sentences"][sentence]
    z = np.asarray(caption["cross_attention"][l], dtype=np.float64)  # (T, S)
    source = history["source_tokens"][sentence]
    alignment = fg.heatmap(
        z.astype(np.float32),
        fg.numbered(caption["target_tokens"]),
        fg.numbered(source),
        title=f"Epoch {epoch} (val BLEU {e['val_bleu']:.1f}): layer {l + 1} cross-attention, mean of the heads",
        x_title="source token",
        y_title="target token (that epoch's greedy output)",
        zmin=0,
        zmax=1,
        cell_px=22,
    )
    bleu = [x["val_bleu"] for x in epochs]
    marked = [b if n == epoch else None for n, b in zip(numbers, bleu)]
    curve = fg.lines(
        [str(n) for n in numbers],
        {"val BLEU": bleu, f"epoch {epoch}": marked},
        title="Validation BLEU after each epoch",
        x_title="epoch",
        y_title="BLEU",
    )
    status = (
        f"Epoch {epoch} of {numbers[-1]}: val BLEU {e['val_bleu']:.2f}. "
        f"“{fg.markdown_text(history['sources'][sentence])}” → "
        f"“{fg.markdown_text(subwords_as_text(caption['target_tokens']))}”"
    )
    return {"history_alignment": alignment, "history_bleu": curve, "history_status": status}


def subwords_as_text(tokens: list[str]) -> str:
    """BPE pieces ("▁Eine", "▁Gruppe", "n", "</s>") read as text ("Eine Gruppen")."""
    return "".join(t for t in tokens if t != END).replace("▁", " ").strip()


# -- exports ---------------------------------------------------------------------------------
def write_exports(r: TransformerResult, folder: Path) -> list[str]:
    """alignment.csv: the Transformer's subword alignment (rows "t: target token", columns "s: source
    token", 6 decimals); word_alignment.csv: both models at word level; attentions.json: every
    attention of the three kinds with its tokens, [layer][head][query][key], 5 decimals."""
    folder = Path(folder)
    t = r.translation
    paths = [folder / "alignment.csv", folder / "word_alignment.csv", folder / "attentions.json"]
    pd.DataFrame(
        np.round(t.attention, 6),
        index=pd.Index(fg.numbered(t.target_tokens), name="target \\ source"),
        columns=fg.numbered(t.source_tokens),
    ).to_csv(paths[0], encoding="utf-8")
    w = r.words
    pd.DataFrame(
        [
            {"model": model, "target word": target, **dict(zip(fg.numbered(w.source_words), np.round(row, 6)))}
            for model, z in (("transformer", w.transformer), ("gru", w.gru))
            for target, row in zip(fg.numbered(w.target_words), z)
        ]
    ).to_csv(paths[1], index=False, encoding="utf-8")
    rounded = lambda a: np.round(np.asarray(a, dtype=np.float64), 5).tolist()  # noqa: E731
    payload = {
        "source": t.source_tokens,
        "target": t.target_tokens,
        "decoder_inputs": r.decoder_inputs,
        "translation": t.text,
        "layers": r.layers,
        "heads": r.heads,
        "alignment_layer": r.alignment_layer + 1,
        "axes": ["layer", "head", "query", "key"],
        "encoder_attention": rounded(t.encoder_attention),
        "decoder_attention": rounded(t.decoder_attention),
        "cross_attention": rounded(t.cross_attention),
        "alignment": rounded(t.attention),
        "agreement": {"value": w.agreement, "target_words_compared": w.count},
    }
    paths[2].write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return [str(p) for p in paths]


def export_files(r: TransformerResult) -> list[str]:
    """The exports in a fresh per-request folder (explorer/web/exports.py) that gradio then serves."""
    return write_exports(r, request_folder("transformer"))
