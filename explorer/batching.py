"""Batch layout: how variable-length sentences become one padded tensor, how
pack_padded_sequence sorts and packs them, the mask, the masked loss, and the cost.

analyze(text, tagger) -> BatchAnalysis -> figures(analysis) -> the Gradio tab.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from . import figures as fg
from .limits import MAX_SENTENCES, check_tokens, split_lines

EXAMPLES = Path(__file__).resolve().parent.parent / "assets" / "examples" / "ewt_dev.json"


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
    """Tokenize sentences the tagger's way and lay them out as one padded/packed batch."""
    if tagger is None:
        from models import registry

        tagger = registry.tagger()
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
@dataclass
class BatchAnalysis:
    """Everything the batch view shows at once.

    token_loss: float[B, T] cross-entropy per cell against gold tags, PAD cells included
        (their target is tag 0), or None when some line has no gold tags
    masked_loss: mean over real tokens, sum(loss * mask) / sum(mask)
    unmasked_loss: the wrong mean over all B x T cells
    """

    layout: BatchLayout
    packing: RowPacking
    gold_tags: list[list[str]] | None
    token_loss: np.ndarray | None
    masked_loss: float | None
    unmasked_loss: float | None
    device: str
    seconds: float


@dataclass
class PackingCost:
    """What padding vs packing costs the tagger's BiLSTM on one batch (medians of `repeats` runs).

    *_forward_ms: one forward pass (tagging); *_forward_backward_ms: forward + backward (training)
    max_state_difference: largest |padded - packed| BiLSTM output at real positions
    """

    padded_forward_ms: float
    packed_forward_ms: float
    padded_forward_backward_ms: float
    packed_forward_backward_ms: float
    max_state_difference: float
    repeats: int
    device: str


@lru_cache(maxsize=1)
def examples() -> dict[str, list[str]]:
    """Space-joined EWT dev sentence -> its gold UPOS tags."""
    from models.text import read_json

    return {" ".join(s["words"]): s["upos"] for s in read_json(EXAMPLES)["sentences"]}


def example_batch() -> str:
    return "\n".join(examples())


def analyze(text: str, tagger=None) -> BatchAnalysis:
    """Lay out the lines of `text` as one batch; with gold tags, run the tagger on it for the masked loss."""
    import torch

    from models import registry
    from models.masking import masked_cross_entropy, token_losses

    start = time.perf_counter()
    tagger = tagger or registry.tagger()
    lay = layout(split_lines(text, "The batch"), tagger)
    gold = [examples().get(" ".join(t)) for t in lay.tokens]
    token_loss = masked = unmasked = None
    if all(g is not None for g in gold):
        tag_id = {t: i for i, t in enumerate(tagger.tagset)}
        targets = np.zeros(lay.ids.shape, dtype=np.int64)  # PAD cells get tag 0: a real class, so they *do* add loss
        for b, tags in enumerate(gold):
            targets[b, : len(tags)] = [tag_id[t] for t in tags]
        with torch.no_grad():
            scores = tagger.model(tagger.inputs(lay.tokens))  # (B, T, C)
            targets = torch.as_tensor(targets, device=scores.device)
            losses = token_losses(scores, targets)  # (B, T)
            masked_t = masked_cross_entropy(scores, targets, torch.as_tensor(lay.mask, device=scores.device))
            token_loss = losses.cpu().numpy()
            masked, unmasked = float(masked_t), float(token_loss.mean())
    return BatchAnalysis(lay, pack_rows(lay.lengths), gold if token_loss is not None else None, token_loss, masked,
                         unmasked, str(tagger.device), time.perf_counter() - start)


def packing_cost(text: str, tagger=None, repeats: int = 5) -> PackingCost:
    """Time the tagger's BiLSTM on this batch padded and packed, forward and forward+backward,
    and compare their outputs. The Batch view shows it; `python -m bench` reports the same."""
    import torch

    from models import registry
    from models.tagger import time_forward

    tagger = tagger or registry.tagger()
    lay = layout(split_lines(text, "The batch"), tagger)
    x = tagger.inputs(lay.tokens)
    model = tagger.model
    with torch.no_grad():
        embedded = model.embed(x)
        packed_states = model.encode(embedded, x.lengths, packed=True)  # (B, T, 2H)
        padded_states = model.encode(embedded, x.lengths, packed=False)
        mask = torch.as_tensor(lay.mask, device=packed_states.device)
        difference = float((packed_states - padded_states).abs()[mask].max())
    ms = {(packed, backward): time_forward(model, x, packed, repeats, backward) * 1000
          for backward in (False, True) for packed in (False, True)}
    return PackingCost(ms[False, False], ms[True, False], ms[False, True], ms[True, True], difference, repeats, str(tagger.device))


# -- 4. figures ------------------------------------------------------------------------
REAL_PAD = [[0, "#eeeeee"], [0.5, "#eeeeee"], [0.5, "#9ecae1"], [1, "#9ecae1"]]


def _cells(lay: BatchLayout, rows: np.ndarray) -> np.ndarray:
    """Cell text "token / id" for the given rows, "PAD / 0" past each sentence's end."""
    text = np.full((len(rows), lay.ids.shape[1]), "PAD\n0", dtype=object)
    for r, b in enumerate(rows):
        for t in range(lay.lengths[b]):
            text[r, t] = f"{lay.tokens[b][t]}\n{lay.ids[b, t]}"
    return text


def padded_figure(lay: BatchLayout):
    rows = np.arange(len(lay.tokens))
    return fg.heatmap(lay.mask.astype(float), [f"b={b} · len {lay.lengths[b]}" for b in rows], [str(t) for t in range(lay.ids.shape[1])],
                      title=f"Padded [B={len(rows)}, T={lay.ids.shape[1]}]: token and id per cell, PAD in grey",
                      x_title="time step t", y_title="sentence b", cell_text=_cells(lay, rows), colorscale=REAL_PAD,
                      zmin=0, zmax=1, show_scale=False, hover="real token: %{z}", cell_px=34)


def sorted_figure(lay: BatchLayout):
    rows = lay.sorted_indices
    return fg.heatmap(lay.mask[rows].astype(float), [f"#{k} ← b={b} · len {lay.lengths[b]}" for k, b in enumerate(rows)],
                      [str(t) for t in range(lay.ids.shape[1])], title="Sorted by length (sorted_indices): longest first",
                      x_title="time step t", y_title="sorted row ← original b", cell_text=_cells(lay, rows),
                      colorscale=REAL_PAD, zmin=0, zmax=1, show_scale=False, hover="real token: %{z}", cell_px=34)


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
    return fg.heatmap(z, [f"#{r} ← b={b}" for r, b in enumerate(rows)], [f"t={t} · {n}" for t, n in enumerate(lay.batch_sizes)],
                      title="PackedSequence: step t holds only the batch_sizes[t] rows longer than t",
                      x_title="time step t · batch_sizes[t]", y_title="sorted row", cell_text=text, colorscale="Viridis",
                      show_scale=False, hover="time step %{z}", cell_px=34)


def mask_figure(lay: BatchLayout):
    return fg.heatmap(lay.mask.astype(float), [f"b={b}" for b in range(len(lay.tokens))], [str(t) for t in range(lay.ids.shape[1])],
                      title="mask[b, t] = t < lengths[b]", x_title="time step t", y_title="sentence b",
                      cell_text=lay.mask.astype(int).astype(str), colorscale=REAL_PAD, zmin=0, zmax=1, show_scale=False,
                      hover="mask %{z}")


def loss_figure(a: BatchAnalysis):
    lay = a.layout
    text = np.empty(lay.mask.shape, dtype=object)
    for b, t in np.ndindex(*lay.mask.shape):
        gold = a.gold_tags[b][t] if lay.mask[b, t] else "PAD"
        text[b, t] = f"{gold}\n{a.token_loss[b, t]:.2f}"
    return fg.heatmap(a.token_loss, [f"b={b}" for b in range(len(lay.tokens))], [str(t) for t in range(lay.ids.shape[1])],
                      title="Cross-entropy per cell (gold tag and loss); PAD cells must be masked out",
                      x_title="time step t", y_title="sentence b", cell_text=text, colorscale="Reds", hover="loss %{z:.3f}",
                      cell_px=34)


def rows_figure(p: RowPacking, lay: BatchLayout):
    R, L = p.segments.shape
    text = np.empty((R, L), dtype=object)
    for r, c in np.ndindex(R, L):
        b = p.segments[r, c]
        text[r, c] = "PAD" if b < 0 else f"{lay.tokens[b][p.positions[r, c]]}\ns{b}"
    z = np.where(p.segments < 0, np.nan, p.segments.astype(float))
    return fg.heatmap(z, [f"row {r}" for r in range(R)], [str(c) for c in range(L)],
                      title=f"Transformer-style packing: {len(lay.tokens)} sentences in {R} rows of {L} (sN = sentence N)",
                      x_title="position in row", y_title="row", cell_text=text, colorscale="Turbo", show_scale=False,
                      hover="sentence %{z}", cell_px=34)


def block_mask_figure(p: RowPacking, lay: BatchLayout, row: int = 0):
    seg = p.segments[row]
    names = ["PAD" if b < 0 else lay.tokens[b][p.positions[row, c]] for c, b in enumerate(seg)]
    return fg.heatmap(p.attention_mask(row).astype(float), names, names,
                      title=f"Row {row}'s attention mask: block-diagonal, one block per sentence",
                      x_title="key", y_title="query", colorscale=REAL_PAD, zmin=0, zmax=1, show_scale=False,
                      hover="may attend: %{z}", cell_px=20)


def steps_table(lay: BatchLayout) -> pd.DataFrame:
    """One row per time step: batch_sizes[t] and the (original) rows it holds."""
    rows, k = [], 0
    for t, n in enumerate(lay.batch_sizes):
        members = [int(b) for b in lay.sorted_indices[:n]]
        rows.append({"t": t, "batch_sizes[t]": int(n), "rows b (sorted)": ", ".join(map(str, members)),
                     "data indices": f"{k}–{k + n - 1}", "tokens": " | ".join(lay.tokens[b][t] for b in members)})
        k += n
    return pd.DataFrame(rows)


def summary_markdown(a: BatchAnalysis) -> str:
    lay = a.layout
    B, T = lay.ids.shape
    lines = [
        f"**B = {B} sentence{'s' if B != 1 else ''}, T = {T}**, lengths = {lay.lengths.tolist()}; real tokens = {int(lay.lengths.sum())} of {B * T} cells.",
        f"- `sorted_indices` = {lay.sorted_indices.tolist()}, `unsorted_indices` = {lay.unsorted_indices.tolist()}",
        f"- `batch_sizes` = {lay.batch_sizes.tolist()} (sums to {int(lay.batch_sizes.sum())})",
        f"- **Padding fraction (RNN, pad to longest): {lay.padding_fraction:.1%}** · transformer-style rows of "
        f"{a.packing.row_length}: **{a.packing.padding_fraction:.1%}** in {a.packing.segments.shape[0]} rows",
    ]
    if a.masked_loss is not None:
        lines.append(f"- Loss against gold tags: masked mean **{a.masked_loss:.4f}** vs unmasked mean over all cells "
                     f"**{a.unmasked_loss:.4f}** (wrong: it counts {B * T - int(lay.lengths.sum())} PAD cells)")
    else:
        lines.append("- Loss needs gold tags: use the EWT example batch (each line unchanged) to see the masked loss.")
    lines.append(f"\n<small>Analysis took {a.seconds * 1000:.0f} ms on {a.device}.</small>")
    return "\n".join(lines)


def cost_markdown(c: PackingCost) -> str:
    return "\n".join([
        f"**Padded vs packed, the tagger's BiLSTM on this batch** ({c.device}, median of {c.repeats} runs):",
        f"- forward (tagging): padded **{c.padded_forward_ms:.2f} ms**, packed **{c.packed_forward_ms:.2f} ms**",
        f"- forward + backward (training): padded **{c.padded_forward_backward_ms:.2f} ms**, "
        f"packed **{c.packed_forward_backward_ms:.2f} ms**",
        f"- Largest |padded − packed| BiLSTM output at real positions: **{c.max_state_difference:.3g}** "
        "(the backward direction of the padded run starts in the PAD cells)",
    ])


def figures(a: BatchAnalysis) -> dict:
    lay = a.layout
    return {
        "summary": summary_markdown(a),
        "padded": padded_figure(lay),
        "sorted": sorted_figure(lay),
        "packed": packed_figure(lay),
        "steps": steps_table(lay),
        "mask": mask_figure(lay),
        "loss": loss_figure(a) if a.token_loss is not None else None,
        "rows": rows_figure(a.packing, lay),
        "block_mask": block_mask_figure(a.packing, lay),
    }


# -- 5. the Gradio tab -------------------------------------------------------------------
def tab():
    """Build the Batch layout tab inside the current gr.Blocks; returns the load event's pieces."""
    import gradio as gr

    from .limits import input_label
    from .ui import listen, live, plot, teaching_note, user_errors

    @user_errors
    def run(text: str):
        f = figures(analyze(text))
        return (f["summary"], plot(f["padded"]), plot(f["sorted"]), plot(f["packed"]), f["steps"], plot(f["mask"]),
                plot(f["loss"]), plot(f["rows"]), plot(f["block_mask"]))

    @user_errors
    def cost(text: str) -> str:
        return cost_markdown(packing_cost(text))

    def cost_after_summary(text: str) -> str:
        try:
            return cost_markdown(packing_cost(text))
        except ValueError:  # the summary above already says what is wrong with the text
            return ""

    with gr.Row():
        with gr.Column(scale=3):
            text = gr.Textbox(value=example_batch(), lines=6, elem_id="batch-text", max_lines=MAX_SENTENCES + 2,
                              **input_label("Sentences, one per line", lines=True, tokens=True))
            gr.Examples([[example_batch()], ["the cat sat\nhi there\na much longer sentence here ."]], inputs=text,
                        example_labels=["UD EWT dev sentences (gold tags: shows the loss)", "three short sentences"])
        with gr.Column(scale=2):
            teaching_note("batching")
    summary = gr.Markdown(elem_id="batch-summary")
    cost_md = gr.Markdown(elem_id="batch-cost")
    with gr.Tabs():
        with gr.Tab("Padded"):
            padded = gr.Plot(show_label=False, elem_id="batch-padded")
        with gr.Tab("Sorted"):
            sorted_plot = gr.Plot(show_label=False)
        with gr.Tab("PackedSequence"):
            packed = gr.Plot(show_label=False, elem_id="batch-packed")
            steps = gr.Dataframe(label="Time steps of the PackedSequence", wrap=True)
        with gr.Tab("Mask"):
            mask = gr.Plot(show_label=False)
        with gr.Tab("Masked loss"):
            loss = gr.Plot(show_label=False)
        with gr.Tab("Transformer-style packing"):
            rows = gr.Plot(show_label=False)
            block = gr.Plot(show_label=False)
    outputs = [summary, padded, sorted_plot, packed, steps, mask, loss, rows, block]
    listen(text, run, [text], outputs, summary, api_name="batch")
    # The timing repeats the BiLSTM 20 times and none of the figures needs it: it runs once the
    # summary of a new batch is on screen (page load, typing, Enter), and is its own API endpoint.
    summary.change(cost_after_summary, [text], [cost_md], api_name=False, trigger_mode="always_last", show_progress="minimal")
    gr.api(cost, api_name="batch_cost")
    return live(run, outputs, summary), [text], outputs
