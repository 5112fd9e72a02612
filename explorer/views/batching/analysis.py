"""Batch layout: how variable-length sentences become one padded tensor, how
pack_padded_sequence sorts and packs them, the mask, the masked loss, and the cost.

analyze(text, tagger) -> BatchAnalysis -> figures(analysis); show (/batch) and timing
(/batch_cost) are the endpoints' handlers. The tab is tab.py; no gradio here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.contract import RunInfo
from explorer.core import figures as fg
from explorer.core.limits import MAX_SENTENCES, check_tokens, check_whole, split_lines
from explorer.core.plural import plural
from models.runtime import RUNTIME

EXAMPLES = Path(__file__).resolve().parents[3] / "assets" / "examples" / "ewt_dev.json"


# -- 1. the layout: plain numpy, the same facts torch's PackedSequence holds ------------
@dataclass
class BatchLayout:
    """A batch of B sentences padded to T = the longest.

    tokens: list of B token lists
    ids: int[B, T], word ids, 0 (PAD) after each sentence's end
    lengths: int[B], real tokens per sentence
    mask: bool[B, T], mask[b, t] = t < lengths[b]; mask.sum() == lengths.sum()
    sorted_indices: int[B], rows by decreasing length (PackedSequence.sorted_indices)
    unsorted_indices: int[B], its inverse: sorted_indices[unsorted_indices] == arange(B)
    batch_sizes: int[T], how many sequences are still running at step t; sums to lengths.sum()
    packed_ids: int[lengths.sum()], PackedSequence.data: step 0 of every row, then step 1, ...
    padding_fraction: float, share of the B x T cells that are PAD
    """

    sentences: list[str]
    tokens: list[list[str]]
    ids: np.ndarray
    lengths: np.ndarray
    mask: np.ndarray
    sorted_indices: np.ndarray
    unsorted_indices: np.ndarray
    batch_sizes: np.ndarray
    packed_ids: np.ndarray
    packed_tokens: list[str]
    padding_fraction: float


def layout_tokens(tokens: list[list[str]], ids: list[list[int]], sentences: list[str] | None = None) -> BatchLayout:
    """Pad, sort and pack already-tokenized sentences (the arithmetic pack_padded_sequence does)."""
    lengths = np.array([len(t) for t in tokens], dtype=np.int64)
    B, T = len(tokens), int(lengths.max())
    padded = np.zeros((B, T), dtype=np.int64)
    for b, row in enumerate(ids):
        padded[b, : len(row)] = row
    mask = np.arange(T)[None, :] < lengths[:, None]  # (B, T)
    sorted_indices = np.argsort(-lengths, kind="stable")  # longest first; ties keep input order
    unsorted_indices = np.argsort(sorted_indices)
    batch_sizes = (lengths[None, :] > np.arange(T)[:, None]).sum(axis=1)  # (T,)
    # PackedSequence.data walks time steps, and within a step the still-running rows in sorted order.
    order = [(t, b) for t in range(T) for b in sorted_indices if t < lengths[b]]
    return BatchLayout(
        sentences=list(sentences) if sentences else [" ".join(t) for t in tokens],
        tokens=[list(t) for t in tokens],
        ids=padded,
        lengths=lengths,
        mask=mask,
        sorted_indices=sorted_indices,
        unsorted_indices=unsorted_indices,
        batch_sizes=batch_sizes,
        packed_ids=np.array([padded[b, t] for t, b in order], dtype=np.int64),
        packed_tokens=[tokens[b][t] for t, b in order],
        padding_fraction=float(1.0 - mask.sum() / mask.size),
    )


def layout(sentences: list[str], tagger=None) -> BatchLayout:
    """Tokenize sentences the tagger's way and lay them out as one padded/packed batch
    (tagger None: the app's shared one, for the Python API; the views pass theirs)."""
    if tagger is None:
        tagger = RUNTIME.get("tagger")
    if not sentences:
        raise ValueError("The batch is empty: type one sentence per line.")
    if len(sentences) > MAX_SENTENCES:
        raise ValueError(f"The batch has {len(sentences)} sentences; the limit is {MAX_SENTENCES}.")
    tokens = [check_tokens(tagger.tokenize(s), f"Line {i + 1}") for i, s in enumerate(sentences)]
    return layout_tokens(tokens, [tagger.word_ids(t) for t in tokens], sentences)


# -- 2. transformer-style packing of the same sentences ---------------------------------
@dataclass
class RowPacking:
    """Sentences concatenated into rows of row_length cells, no sentence split.

    segments: int[R, row_length], which sentence fills each cell, -1 = PAD
    positions: int[R, row_length], position inside its own sentence (restarts at 0)
    padding_fraction: float, share of PAD cells in [R, row_length]
    """

    row_length: int
    segments: np.ndarray
    positions: np.ndarray
    padding_fraction: float

    def attention_mask(self, row: int) -> np.ndarray:
        """bool[L, L]: query i may attend to key j only inside its own sentence (block-diagonal)."""
        seg = self.segments[row]
        return (seg[:, None] == seg[None, :]) & (seg[:, None] >= 0)


def pack_rows(lengths: np.ndarray, row_length: int | None = None) -> RowPacking:
    """First-fit decreasing: each sentence, longest first, goes into the first row it fits."""
    row_length = int(row_length or lengths.max())
    rows: list[list[int]] = []
    free: list[int] = []
    for b in np.argsort(-lengths, kind="stable"):
        for r, space in enumerate(free):
            if lengths[b] <= space:
                rows[r].append(int(b))
                free[r] -= int(lengths[b])
                break
        else:
            rows.append([int(b)])
            free.append(row_length - int(lengths[b]))
    segments = np.full((len(rows), row_length), -1, dtype=np.int64)
    positions = np.full((len(rows), row_length), -1, dtype=np.int64)
    for r, members in enumerate(rows):
        start = 0
        for b in members:
            segments[r, start : start + lengths[b]] = b
            positions[r, start : start + lengths[b]] = np.arange(lengths[b])
            start += int(lengths[b])
    return RowPacking(row_length, segments, positions, float((segments < 0).mean()))


# -- 3. the model on this batch: the masked loss, and what padding vs packing costs ----
@dataclass(frozen=True, kw_only=True)
class BatchAnalysis:
    """Everything the batch view shows at once.

    gold_tags: list of B tag lists, or None when some line has no gold tags
    loss: models.tagger.MaskedLoss (token_loss float[B, T], masked and unmasked means), or None
    """

    layout: BatchLayout
    packing: RowPacking
    gold_tags: list[list[str]] | None
    loss: object | None
    run: RunInfo


@lru_cache(maxsize=1)
def examples() -> dict[str, list[str]]:
    """Space-joined EWT dev sentence -> its gold UPOS tags."""
    data = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return {" ".join(s["words"]): s["upos"] for s in data["sentences"]}


def example_batch() -> str:
    return "\n".join(examples())


UNK_ID = 1  # models.text.Vocab: 0 is <pad>, 1 is <unk>
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
             "SCONJ", "SYM", "VERB", "X")  # fmt: skip


def inline_tags(line: str) -> tuple[list[str], list[str]] | None:
    """ "dogs/NOUN bark/VERB" -> (["dogs", "bark"], ["NOUN", "VERB"]): a line whose every
    space-separated token ends in /UPOS carries its own gold tags; None otherwise."""
    words, tags = [], []
    for token in line.split():
        word, slash, tag = token.rpartition("/")
        if not slash or not word or tag.upper() not in UPOS_TAGS:
            return None
        words.append(word)
        tags.append(tag.upper())
    return (words, tags) if words else None


def analyze(text: str, tagger) -> BatchAnalysis:
    """Lay out the lines of `text` as one batch; with gold tags (a UD EWT example line, or tags
    typed inline: dogs/NOUN bark/VERB), run the tagger on it for the masked loss."""
    start = time.perf_counter()
    lines = split_lines(text, "The batch")
    tagged = [inline_tags(line) for line in lines]
    if all(t is not None for t in tagged):  # every line typed with its tags: take the words as given
        tokens = [check_tokens(words, f"Line {i + 1}") for i, (words, _) in enumerate(tagged)]
        lay = layout_tokens(tokens, [tagger.word_ids(t) for t in tokens], lines)
        gold = [tags for _, tags in tagged]
    else:
        lay = layout(lines, tagger)
        gold = [examples().get(" ".join(t)) for t in lay.tokens]
    known = all(g is not None for g in gold)
    loss = tagger.masked_loss(lay.tokens, gold) if known else None
    return BatchAnalysis(
        layout=lay,
        packing=pack_rows(lay.lengths),
        gold_tags=gold if known else None,
        loss=loss,
        run=RunInfo(device=str(tagger.device), seconds=time.perf_counter() - start),
    )


def packing_cost(text: str, tagger, repeats: int = 5):
    """models.tagger.PackingCost of this batch: padded vs packed BiLSTM, forward and forward+backward."""
    return tagger.packing_cost(layout(split_lines(text, "The batch"), tagger).tokens, repeats)


# -- 4. figures ------------------------------------------------------------------------
REAL_PAD = [[0, "#eeeeee"], [0.5, "#eeeeee"], [0.5, "#9ecae1"], [1, "#9ecae1"]]


def _cells(lay: BatchLayout, rows: np.ndarray) -> np.ndarray:
    """Cell text "token / id" for the given rows, "PAD / 0" past each sentence's end."""
    text = np.full((len(rows), lay.ids.shape[1]), "PAD\n0", dtype=object)
    for r, b in enumerate(rows):
        for t in range(lay.lengths[b]):
            text[r, t] = f"{lay.tokens[b][t]}\n{lay.ids[b, t]}"
    return text


def _token_grid(lay: BatchLayout, rows: np.ndarray, row_labels: list[str], title: str, y_title: str) -> dict:
    """The batch's rows in the given order: token and id per cell, PAD in grey."""
    return fg.heatmap(
        lay.mask[rows].astype(float),
        row_labels,
        [str(t) for t in range(lay.ids.shape[1])],
        title=title,
        x_title="time step t",
        y_title=y_title,
        cell_text=_cells(lay, rows),
        colorscale=REAL_PAD,
        zmin=0,
        zmax=1,
        show_scale=False,
        hover="real token: %{z}",
        cell_px=34,
    )


def padded_figure(lay: BatchLayout):
    rows = np.arange(len(lay.tokens))
    return _token_grid(
        lay,
        rows,
        [f"b={b} · len {lay.lengths[b]}" for b in rows],
        f"Padded [B={len(rows)}, T={lay.ids.shape[1]}]: token and id per cell, PAD in grey",
        "sentence b",
    )


def sorted_figure(lay: BatchLayout):
    rows = lay.sorted_indices
    return _token_grid(
        lay,
        rows,
        [f"#{k} ← b={b} · len {lay.lengths[b]}" for k, b in enumerate(rows)],
        "Sorted by length (sorted_indices): longest first",
        "sorted row ← original b",
    )


def packed_figure(lay: BatchLayout):
    """Sorted rows; each real cell shows its index in PackedSequence.data; columns show batch_sizes[t]."""
    rows = lay.sorted_indices
    B, T = lay.mask.shape
    z = np.full((B, T), np.nan)
    text = np.full((B, T), "", dtype=object)
    k = 0
    for t in range(T):
        for r, b in enumerate(rows):
            if t < lay.lengths[b]:
                z[r, t] = t
                text[r, t] = f"{lay.tokens[b][t]}\ndata[{k}]"
                k += 1
    return fg.heatmap(
        z,
        [f"#{r} ← b={b}" for r, b in enumerate(rows)],
        [f"t={t} · {n}" for t, n in enumerate(lay.batch_sizes)],
        title="PackedSequence: step t holds only the batch_sizes[t] rows longer than t",
        x_title="time step t · batch_sizes[t]",
        y_title="sorted row",
        cell_text=text,
        colorscale="Viridis",
        show_scale=False,
        hover="time step %{z}",
        cell_px=34,
    )


def mask_figure(lay: BatchLayout):
    return fg.heatmap(
        lay.mask.astype(float),
        [f"b={b}" for b in range(len(lay.tokens))],
        [str(t) for t in range(lay.ids.shape[1])],
        title="mask[b, t] = t < lengths[b]",
        x_title="time step t",
        y_title="sentence b",
        cell_text=lay.mask.astype(int).astype(str),
        colorscale=REAL_PAD,
        zmin=0,
        zmax=1,
        show_scale=False,
        hover="mask %{z}",
    )


def loss_figure(a: BatchAnalysis):
    lay = a.layout
    text = np.empty(lay.mask.shape, dtype=object)
    for b, t in np.ndindex(*lay.mask.shape):
        gold = a.gold_tags[b][t] if lay.mask[b, t] else "PAD"
        text[b, t] = f"{gold}\n{a.loss.token_loss[b, t]:.2f}"
    return fg.heatmap(
        a.loss.token_loss,
        [f"b={b}" for b in range(len(lay.tokens))],
        [str(t) for t in range(lay.ids.shape[1])],
        title="Cross-entropy per cell (gold tag and loss); PAD cells must be masked out",
        x_title="time step t",
        y_title="sentence b",
        cell_text=text,
        colorscale="Reds",
        hover="loss %{z:.3f}",
        cell_px=34,
    )


def rows_figure(p: RowPacking, lay: BatchLayout):
    R, L = p.segments.shape
    text = np.empty((R, L), dtype=object)
    for r, c in np.ndindex(R, L):
        b = p.segments[r, c]
        text[r, c] = "PAD" if b < 0 else f"{lay.tokens[b][p.positions[r, c]]}\ns{b}"
    z = np.where(p.segments < 0, np.nan, p.segments.astype(float))
    return fg.heatmap(
        z,
        [f"row {r}" for r in range(R)],
        [str(c) for c in range(L)],
        title=f"Transformer-style packing: {plural(len(lay.tokens), 'sentence')} in {plural(R, 'row')} of {L} (sN = sentence N)",
        x_title="position in row",
        y_title="row",
        cell_text=text,
        colorscale="Cividis",  # sentences told apart by lightness too, not by a rainbow's red vs green
        show_scale=False,
        hover="sentence %{z}",
        cell_px=34,
    )


def block_mask_figure(p: RowPacking, lay: BatchLayout, row: int = 0):
    seg = p.segments[row]
    names = ["PAD" if b < 0 else lay.tokens[b][p.positions[row, c]] for c, b in enumerate(seg)]
    return fg.heatmap(
        p.attention_mask(row).astype(float),
        names,
        names,
        title=f"Row {row}'s attention mask: block-diagonal, {plural(len(set(seg[seg >= 0].tolist())), 'block')}, "
        "one per sentence",
        x_title="key",
        y_title="query",
        colorscale=REAL_PAD,
        zmin=0,
        zmax=1,
        show_scale=False,
        hover="may attend: %{z}",
        cell_px=20,
    )


def steps_table(lay: BatchLayout) -> pd.DataFrame:
    """One row per time step: batch_sizes[t] and the (original) rows it holds."""
    rows, k = [], 0
    for t, n in enumerate(lay.batch_sizes):
        members = [int(b) for b in lay.sorted_indices[:n]]
        rows.append(
            {
                "t": t,
                "batch_sizes[t]": int(n),
                "rows b (sorted)": ", ".join(map(str, members)),
                "data indices": f"{k}–{k + n - 1}",
                "tokens": " | ".join(lay.tokens[b][t] for b in members),
            }
        )
        k += n
    return pd.DataFrame(rows)


def summary_markdown(a: BatchAnalysis) -> str:
    lay = a.layout
    B, T = lay.ids.shape
    lines = [
        f"**B = {plural(B, 'sentence')}, T = {T}**, lengths = {lay.lengths.tolist()}; real tokens = {int(lay.lengths.sum())} of {plural(B * T, 'cell')}.",
        f"- `sorted_indices` = {lay.sorted_indices.tolist()}, `unsorted_indices` = {lay.unsorted_indices.tolist()}",
        f"- `batch_sizes` = {lay.batch_sizes.tolist()} (sums to {int(lay.batch_sizes.sum())})",
        f"- **Padding fraction (RNN, pad to longest): {lay.padding_fraction:.1%}** · transformer-style rows of "
        f"{a.packing.row_length}: **{a.packing.padding_fraction:.1%}** in {plural(a.packing.segments.shape[0], 'row')}",
    ]
    if a.loss is not None:
        lines.append(
            f"- Loss against gold tags: masked mean **{a.loss.masked:.4f}** vs unmasked mean over all cells "
            f"**{a.loss.unmasked:.4f}** (wrong: it counts {B * T - int(lay.lengths.sum())} PAD cells)"
        )
    else:
        lines.append(f"- {LOSS_NEEDS}")
    unknown = sorted({w for b, words in enumerate(lay.tokens) for t, w in enumerate(words) if lay.ids[b, t] == UNK_ID})
    if unknown:
        shown = ", ".join(fg.markdown_text(w) for w in unknown[:8]) + (" …" if len(unknown) > 8 else "")
        lines.append(
            f"- **id {UNK_ID} = unknown word** (`<unk>`): not in the tagger's training vocabulary: {shown}. "
            "The tagger still reads its characters and its MiniLM vector; id 0 is PAD."
        )
    lines.append(f"\n<small>Analysis took {a.run.seconds * 1000:.0f} ms on {a.run.device}.</small>")
    return "\n".join(lines)


BUSY_SPREAD = 1.5  # slowest / fastest repeat above this: the machine was doing other work meanwhile


def cost_markdown(c) -> str:
    """c: models.tagger.PackingCost. Each median comes with the min–max of its repeats, and a
    wide spread is called out: then the two medians are not a fair comparison."""

    def timed(name: str) -> str:
        low, high = c.spread[name]
        return f"**{getattr(c, name + '_ms'):.2f} ms** ({low:.2f}–{high:.2f})"

    lines = [
        f"**Padded vs packed, the tagger's BiLSTM on this batch** ({c.device}; median of {c.repeats} runs, "
        "min–max in brackets):",
        f"- forward (tagging): padded {timed('padded_forward')}, packed {timed('packed_forward')}",
        f"- forward + backward (training): padded {timed('padded_forward_backward')}, "
        f"packed {timed('packed_forward_backward')}",
        f"- Largest |padded − packed| BiLSTM output at real positions: **{c.max_state_difference:.3g}** "
        "(the backward direction of the padded run starts in the PAD cells)",
    ]
    busy = [name for name, (low, high) in c.spread.items() if high > BUSY_SPREAD * max(low, 1e-9)]
    if busy:
        lines.append(
            f"- ⚠️ The machine was busy while timing ({', '.join(n.replace('_', ' ') for n in busy)}: the slowest run "
            f"took more than {BUSY_SPREAD}× the fastest), so these medians are not a fair comparison: run it again."
        )
    return "\n".join(lines)


def figures(a: BatchAnalysis) -> dict:
    lay = a.layout
    return {
        "summary": summary_markdown(a),
        "padded": padded_figure(lay),
        "sorted": sorted_figure(lay),
        "packed": packed_figure(lay),
        "steps": steps_table(lay),
        "mask": mask_figure(lay),
        "loss": loss_figure(a) if a.loss is not None else fg.message(LOSS_NEEDS),
        "rows": rows_figure(a.packing, lay),
        "block_mask": block_mask_figure(a.packing, lay, fullest_row(a.packing)),
    }


LOSS_NEEDS = (
    "The masked loss needs gold tags for every line: type them inline (dogs/NOUN bark/VERB) "
    "or use the UD EWT example batch, each line unchanged."
)


def fullest_row(p: RowPacking) -> int:
    """The row that packs the most sentences: where the block-diagonal mask has the most blocks."""
    counts = [len(set(row[row >= 0].tolist())) for row in p.segments]
    return int(np.argmax(counts))


# -- 5. the endpoints' handlers -------------------------------------------------------------
def show(text: str, *, tagger) -> dict:
    """/batch: sentences, one per line -> the summary and every figure by name."""
    a = analyze(text, tagger)
    return {**figures(a), "row": fullest_row(a.packing), "result": a}


def show_row(a: BatchAnalysis | None, row) -> dict:
    """The attention mask of another row of the transformer-style packing."""
    if a is None:
        raise ValueError("Type a batch first.")
    rows = a.packing.segments.shape[0]
    r = check_whole(row, 0, rows - 1, "The row")
    return {"block_mask": block_mask_figure(a.packing, a.layout, r)}


def timing(text: str, *, tagger) -> dict:
    """/batch_cost: the padded vs packed timing of the same batch (markdown in "status")."""
    c = packing_cost(text, tagger)
    return {"status": cost_markdown(c), "result": c}
