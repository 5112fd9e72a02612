"""Self-attention of a pretrained encoder: every layer x head map, head statistics, bertviz.

analyze(text, text_b, encoder) -> SelfAttentionResult -> figures(result, layer, head), and the
handlers of the tab's endpoints (show, zoom, pick_from_table, bertviz, export); the tab is tab.py.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.contract import RunInfo
from explorer.core import figures as fg
from explorer.core.limits import MAX_ATTENTION_TOKENS, check_model_name, clean_text
from explorer.core.plural import plural
from explorer.core.safe_html import bertviz_iframe, script_sources
from explorer.web.exports import request_folder

# Columns of SelfAttentionResult.stats, in order (see head_statistics).
STATS = ["entropy (bits)", "[CLS]", "[SEP]", "self", "previous", "next", "mean distance"]
PATTERNS = ["[CLS]", "[SEP]", "self", "previous", "next"]  # a head "is" one of these if it puts >= half its mass there


@dataclass(frozen=True, kw_only=True)
class SelfAttentionResult:
    """Self-attention of one sentence or sentence pair, as the view shows it.

    encoded: models.encoder.EncoderAttention, what the model read (word pieces incl. [CLS] /
        [SEP], attentions float32[layers, heads, pieces, pieces], model_name, notice)
    tokens: list[str], the T units shown: the word pieces, or whole words when merged
        (special tokens stay on their own)
    attentions: float32[layers, heads, T, T] over those units; [l, h, i, j] = weight of query
        i on key j; rows sum to 1 (encoded.attentions itself unless merged)
    stats: float[layers, heads, len(STATS)], see head_statistics
    is_cls, is_sep: bool[T]; sentence_b_start: index of sentence B's first unit, None for one sentence
    """

    encoded: object
    tokens: list[str]
    attentions: np.ndarray
    stats: np.ndarray
    is_cls: np.ndarray
    is_sep: np.ndarray
    sentence_b_start: int | None
    merged: bool
    run: RunInfo

    @property
    def layers(self) -> int:
        return self.attentions.shape[0]

    @property
    def heads(self) -> int:
        return self.attentions.shape[1]


def merge_word_pieces(attentions: np.ndarray, word_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Word-level attention from piece-level: sum over a word's key pieces, mean over its query pieces.

    W[u, v] = 1/|u| sum_{i in u} sum_{j in v} A[i, j]. Summing keys keeps each row's total
    mass, averaging queries keeps rows summing to 1 (Clark et al. 2019, "What does BERT look
    at?", section 4.1). word_ids: int[T], -1 = a special token, kept as its own unit.
    Returns (float32[L, H, U, U], int[U] the first piece of each unit).
    """
    T = len(word_ids)
    unit_of_piece, first_piece, seen = np.empty(T, dtype=np.int64), [], {}
    for i, w in enumerate(word_ids):
        key = ("word", int(w)) if w >= 0 else ("special", i)
        if key not in seen:
            seen[key] = len(first_piece)
            first_piece.append(i)
        unit_of_piece[i] = seen[key]
    U = len(first_piece)
    M = np.zeros((T, U), dtype=np.float32)  # (T, U) one-hot piece -> unit
    M[np.arange(T), unit_of_piece] = 1.0
    keys_summed = attentions @ M  # (L, H, T, U)
    merged = np.einsum("iu,lhiv->lhuv", M / M.sum(axis=0), keys_summed)  # (L, H, U, U): mean over query pieces
    return merged.astype(np.float32), np.array(first_piece, dtype=np.int64)


def head_statistics(attentions: np.ndarray, is_cls: np.ndarray, is_sep: np.ndarray) -> np.ndarray:
    """float[L, H, 7], each averaged over the query rows i of a head's map A:
    entropy -sum_j A_ij log2 A_ij; mass on [CLS] / [SEP] (sum over those keys); A_ii (self);
    A_i,i-1 (previous) and A_i,i+1 (next) over the rows that have one; sum_j A_ij |i - j|.
    """
    L, H, T, _ = attentions.shape
    a = attentions  # float32 is plenty for 3-decimal statistics, and twice as fast as float64
    idx = np.arange(T)
    entropy = -(a * np.log2(np.clip(a, 1e-12, 1.0))).sum(-1).mean(-1)
    on_cls = a[..., is_cls].sum(-1).mean(-1)
    on_sep = a[..., is_sep].sum(-1).mean(-1)
    on_self = a[..., idx, idx].mean(-1)
    previous = a[..., idx[1:], idx[:-1]].mean(-1) if T > 1 else np.zeros((L, H))
    following = a[..., idx[:-1], idx[1:]].mean(-1) if T > 1 else np.zeros((L, H))
    distance = (a * np.abs(idx[:, None] - idx[None, :]).astype(a.dtype)).sum(-1).mean(-1)
    return np.stack([entropy, on_cls, on_sep, on_self, previous, following, distance], axis=-1).astype(np.float64)


def analyze(text: str, text_b: str | None = None, encoder=None, merge_words: bool = False) -> SelfAttentionResult:
    """Run `encoder` (models.encoder.Encoder) on a sentence (or the pair text, text_b) and summarise every head."""
    if encoder is None:
        raise TypeError("analyze needs the encoder: analyze(text, encoder=models.load_encoder())")
    text = clean_text(text, "Sentence A" if text_b else "The sentence")
    pair = bool(text_b and text_b.strip())
    start = time.perf_counter()
    a = encoder.attend((text, clean_text(text_b, "Sentence B")) if pair else text, max_tokens=MAX_ATTENTION_TOKENS)
    tokens, attentions = a.tokens, a.attentions
    is_cls, is_sep, b_start = a.is_cls, a.is_sep, a.sentence_b_start
    if merge_words:
        attentions, first = merge_word_pieces(attentions, a.word_ids)
        tokens = [a.words[a.word_ids[i]] if a.word_ids[i] >= 0 else a.tokens[i] for i in first]
        is_cls, is_sep = is_cls[first], is_sep[first]
        b_start = int(np.searchsorted(first, b_start)) if b_start is not None else None
    stats = head_statistics(attentions, is_cls, is_sep)
    return SelfAttentionResult(
        encoded=a,
        tokens=tokens,
        attentions=attentions,
        stats=stats,
        is_cls=is_cls,
        is_sep=is_sep,
        sentence_b_start=b_start,
        merged=merge_words,
        run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start),
    )


# -- figures and tables: numpy in, plotly specs / pandas out ----------------------------
def grid_figure(r: SelfAttentionResult) -> dict:
    unit = "words" if r.merged else "word pieces"
    return fg.head_grid(
        r.attentions,
        r.tokens,
        title=f"All {r.layers} layers × {r.heads} heads: row = query, "
        f"column = key ({plural(len(r.tokens), unit[:-1])}; darker = more attention)",
    )


def check_head(r: SelfAttentionResult, layer: int, head: int) -> tuple[int, int]:
    """1-based layer/head from the UI -> 0-based indices; ValueError when out of range."""
    layer, head = int(layer), int(head)
    if not (1 <= layer <= r.layers and 1 <= head <= r.heads):
        raise ValueError(
            f"Layer {layer}, head {head} does not exist: this model has layers 1-{r.layers}, heads 1-{r.heads}."
        )
    return layer - 1, head - 1


def zoom_figure(r: SelfAttentionResult, layer: int, head: int) -> dict:
    """One head's [T, T] map with token labels (a plotly spec); layer and head are 1-based, as in the UI."""
    l, h = check_head(r, layer, head)
    A = np.round(r.attentions[l, h], 3)
    T = len(r.tokens)
    labels = [f"{i}: {t}" for i, t in enumerate(r.tokens)]
    return fg.heatmap(
        A.astype(np.float32),
        labels,
        labels,
        title=f"Layer {layer}, head {head}: row = query, column = key",
        y_title="query token (attending); each row sums to 1",
        zmin=0,
        zmax=1,
        cell_text=np.vectorize(lambda p: f"{p:.2f}" if p >= 0.01 else "")(A) if T <= 16 else None,
        cell_px=24 if T <= 30 else 14,
    )


def stats_table(r: SelfAttentionResult) -> pd.DataFrame:
    """One row per head; sort a column to find e.g. the 'previous token' or '[SEP]' heads."""
    L, H, _ = r.stats.shape
    flat = r.stats.reshape(L * H, -1)
    columns = {
        "layer": np.repeat(np.arange(1, L + 1), H),
        "head": np.tile(np.arange(1, H + 1), L),
        "looks like": [pattern(row, len(r.tokens)) for row in flat],
    }
    columns.update({name: np.round(flat[:, k], 3) for k, name in enumerate(STATS)})
    return pd.DataFrame(columns)


def pattern(row: np.ndarray, T: int) -> str:
    """The kind of head: where at least half the mass goes, else broad (near-uniform) or mixed."""
    masses = row[1:6]
    best = int(np.argmax(masses))
    if masses[best] >= 0.5:
        return PATTERNS[best]
    return "broad" if T > 1 and row[0] >= 0.75 * np.log2(T) else "mixed"


def status(r: SelfAttentionResult) -> str:
    pieces = plural(len(r.encoded.tokens), "word piece")
    unit = f"{plural(len(r.tokens), 'word')} ({pieces})" if r.merged else pieces
    text = (
        f"**{html.escape(r.encoded.model_name, quote=False)}**: {unit}, {r.layers} layers × {r.heads} heads, "
        f"computed in {r.run.seconds * 1000:.0f} ms on {r.run.device}."
    )
    unknown = [
        r.encoded.words[w] for piece, w in zip(r.encoded.tokens, r.encoded.word_ids) if piece == "[UNK]" and w >= 0
    ]
    if unknown:
        shown = ", ".join(
            html.escape(w if len(w) <= 24 else w[:20] + f"… ({len(w)} characters)", quote=False) for w in unknown[:5]
        )
        text += (
            f"\n\nℹ️ {plural(len(unknown), 'word')} became one [UNK] piece each ({shown}): the tokenizer gives "
            "up on a word longer than 100 characters or with characters its vocabulary lacks, so the model "
            "reads nothing of what it said."
        )
    notice = r.encoded.notice
    return text + (f"\n\n⚠️ {html.escape(notice, quote=False)}" if notice else "")


def figures(r: SelfAttentionResult, layer: int = 1, head: int = 1) -> dict:
    return {"grid": grid_figure(r), "zoom": zoom_figure(r, layer, head), "table": stats_table(r), "status": status(r)}


# -- exports: files in a temporary folder that gradio then serves -----------------------
def _export_dir() -> Path:
    return request_folder("self-attention")


def head_csv(r: SelfAttentionResult, layer: int, head: int) -> Path:
    """The zoomed head as CSV: one row per query token, one column per key token (4 decimals)."""
    l, h = check_head(r, layer, head)
    labels = [f"{i}: {t}" for i, t in enumerate(r.tokens)]  # "i: token" never starts with = + - @
    frame = pd.DataFrame(np.round(r.attentions[l, h], 4), index=pd.Index(labels, name="query \\ key"), columns=labels)
    path = _export_dir() / f"attention_layer{layer}_head{head}.csv"
    frame.to_csv(path, encoding="utf-8")
    return path


def attentions_json(r: SelfAttentionResult) -> Path:
    """Every head as JSON: {"tokens": [...], "attentions": [layer][head][query][key] (4 decimals), ...}."""
    payload = {
        "model": r.encoded.model_name,
        "tokens": r.tokens,
        "word_pieces": r.encoded.tokens,
        "merged_words": r.merged,
        "sentence_b_start": r.sentence_b_start,
        "layers": r.layers,
        "heads": r.heads,
        "axes": ["layer", "head", "query", "key"],
        "attentions": np.round(r.attentions.astype(np.float64), 4).tolist(),
        "head_statistics": {"columns": STATS, "values": np.round(r.stats, 4).tolist()},
    }
    path = _export_dir() / "attentions.json"
    path.write_text(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    return path


# -- the endpoints -----------------------------------------------------------
EXAMPLES = (
    ("The cat sat on the mat because it was tired.", ""),
    ("The animal didn't cross the street because it was too wide.", ""),
    ("A man is playing a guitar.", "Someone is making music."),
    ("Unbelievably, the tokenizer splits unfriendliness.", ""),
)


def show(text: str, text_b: str, model_name: str, merge, layer, head, *, encoder, runtime=None) -> dict:
    """/self_attention: the sentence (and optional sentence B), an optional hub encoder name,
    whether to merge word pieces, and the head to zoom (1-based) -> grid, zoom, table, status."""
    name = check_model_name(model_name)
    if name and runtime is not None:  # a hub model the user named, instead of the bundled one
        encoder = runtime.named_encoder(name)
    r = analyze(text, text_b, encoder, merge_words=bool(merge))
    layer, head = min(max(int(layer or 1), 1), r.layers), min(max(int(head or 1), 1), r.heads)
    f = figures(r, layer, head)
    return {
        "status": f["status"],
        "grid": f["grid"],
        "zoom": f["zoom"],
        "table": f["table"],
        "layer": layer,
        "head": head,
        "head_view": "",
        "model_view": "",
        "files": None,
        "result": r,
    }


def need(r):
    if r is None:
        raise ValueError("Type a sentence first.")
    return r


def zoom(r, layer, head) -> dict:
    return {"zoom": zoom_figure(need(r), layer, head)}


def pick_from_table(r, row: list) -> dict:
    """A click on the head-statistics table: its row as shown (so sorting does not matter)."""
    layer, head = int(float(row[0])), int(float(row[1]))
    return {"layer": layer, "head": head, "zoom": zoom_figure(need(r), layer, head)}


def bertviz(result) -> dict:
    """/self_attention_bertviz: bertviz's head view and model view of the last answer, in sandboxed iframes."""
    r = need(result)
    urls, note = script_sources()
    views = [bertviz_iframe(v, r.tokens, r.attentions, r.sentence_b_start, urls) for v in ("head", "model")]
    return {"head_view": views[0], "model_view": views[1], "status": note}


def export(r, layer, head) -> dict:
    r = need(r)
    return {"files": [str(head_csv(r, layer, head)), str(attentions_json(r))]}
