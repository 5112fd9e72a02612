"""Switching attention heads off in a BERT encoder, and what that does to sentence similarity.

all-MiniLM-L6-v2 was trained for sentence similarity (sentence-transformers): a sentence's
embedding is the mean of its last layer's token states over its real (unpadded) pieces, normalized
to length 1, and two sentences are as similar as the cosine of their embeddings.

A head is switched off by zeroing its slice of the context layer, O_h = 0 in
concat(O_1 .. O_H) W_O (Michel et al. 2019, "Are sixteen heads really better than one?"): W_O's bias
and the residual still pass. transformers 5 no longer takes a `head_mask`, so a forward hook on each
BertSelfAttention multiplies its output by a per-row mask, and many ablations run as rows of one batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator

import numpy as np
import torch

from .hooks import in_this_thread

Head = tuple[int, int]  # (layer, head), 0-based


def check_heads(bert, heads: Iterable[Head]) -> list[Head]:
    """The heads as 0-based (layer, head) pairs, or ValueError naming the first one that does not exist."""
    L, H = bert.config.num_hidden_layers, bert.config.num_attention_heads
    out = []
    for pair in heads:
        layer, head = (int(x) for x in pair)
        if not (0 <= layer < L and 0 <= head < H):
            raise ValueError(f"Head ({layer}, {head}) does not exist (0-based): layers 0-{L - 1}, heads 0-{H - 1}.")
        out.append((layer, head))
    return out


@contextlib.contextmanager
def heads_switched_off(bert, keep: torch.Tensor) -> Iterator[None]:
    """While inside, row b of a batch runs with head h of layer l multiplied by keep[b, l, h]
    (1 = as trained, 0 = switched off). keep: float[B, L, H] on the model's device."""
    hooks = []
    for layer, block in enumerate(bert.encoder.layer):
        attn = block.attention.self
        # (B, H) -> (B, 1, H * d_k): each head's factor over its d_k columns of the context layer
        factor = keep[:, layer].repeat_interleave(attn.attention_head_size, dim=1)[:, None, :]

        def scaled(output, factor=factor):
            context, weights = output
            return context * factor, weights

        hooks.append(attn.register_forward_hook(in_this_thread(scaled)))
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def mean_pooled(last_hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of each row's real token states, normalized to length 1: [B, T, D], [B, T] -> [B, D]."""
    mask = attention_mask[..., None].to(last_hidden.dtype)  # (B, T, 1)
    mean = (last_hidden * mask).sum(1) / mask.sum(1).clamp(min=1)  # (B, D)
    return torch.nn.functional.normalize(mean, dim=-1)


def encode_pair(tokenizer, a: str, b: str, device: torch.device) -> dict:
    """The two sentences as a padded batch of 2 (each read on its own, as sentence-transformers does)."""
    enc = tokenizer([a, b], padding=True, return_tensors="pt", truncation=False)
    return {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}


def keep_masks(L: int, H: int, ablations: list[list[Head]], device: torch.device) -> torch.Tensor:
    """float[K, L, H]: ones, with zeros at each ablation's heads."""
    keep = torch.ones(len(ablations), L, H, device=device)
    for k, heads in enumerate(ablations):
        for layer, head in heads:
            keep[k, layer, head] = 0.0
    return keep


@torch.inference_mode()
def similarities(bert, pair: dict, ablations: list[list[Head]]) -> np.ndarray:
    """Cosine similarity of the pair under each ablation (a list of heads off), as ONE batch of
    2 x len(ablations) rows: float64[len(ablations)]."""
    L, H = bert.config.num_hidden_layers, bert.config.num_attention_heads
    K = len(ablations)
    device = pair["input_ids"].device
    keep = keep_masks(L, H, ablations, device).repeat_interleave(2, dim=0)  # (2K, L, H): rows a, b, a, b, ...
    batch = {k: v.repeat(K, 1) for k, v in pair.items()}  # (2K, T)
    with heads_switched_off(bert, keep):
        states = bert(**batch).last_hidden_state  # (2K, T, D)
    emb = mean_pooled(states, batch["attention_mask"]).view(K, 2, -1)  # (K, 2, D)
    return (emb[:, 0] * emb[:, 1]).sum(-1).double().cpu().numpy()


def every_head(bert) -> list[list[Head]]:
    """One ablation per head, layer-major: [[(0, 0)], [(0, 1)], ..., [(L-1, H-1)]]."""
    L, H = bert.config.num_hidden_layers, bert.config.num_attention_heads
    return [[(layer, head)] for layer in range(L) for head in range(H)]


def additive_mask(attention_mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """[B, T] 1/0 -> [B, 1, 1, T] 0 / most negative float, what eager attention adds to its scores."""
    return (1 - attention_mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min


def climbing_batch(bert, pair: dict, on_layer=None) -> torch.Tensor:
    """The unablated pair and one copy of it per head, as ONE batch that grows as it climbs: the
    copies that switch off a head of layer l branch off the unablated rows at layer l's input
    (layers below l are the same with or without that head), so layer l runs on 2 + 2·H·(l+1) rows
    instead of all 2·(L·H + 1) going through every layer (41 % fewer row-layers for MiniLM).

    on_layer(l, rows, block) is a context manager around layer l (None: plain layers, the floor).
    Returns the last states [2·(L·H + 1), T, D]: rows (a, b) unablated, then (a, b) per head,
    layer-major."""
    H = bert.config.num_attention_heads
    hidden = bert.embeddings(input_ids=pair["input_ids"], token_type_ids=pair["token_type_ids"])  # (2, T, D)
    mask = pair["attention_mask"]
    for layer, block in enumerate(bert.encoder.layer):
        hidden = torch.cat([hidden, hidden[:2].repeat(H, 1, 1)])  # (B_l, T, D): 2H new rows
        rows = hidden.shape[0]
        additive = additive_mask(mask.repeat(rows // 2, 1), hidden.dtype)  # (B_l, 1, 1, T)
        with on_layer(layer, rows, block) if on_layer else contextlib.nullcontext():
            hidden = block(hidden, attention_mask=additive)
    return hidden


@torch.inference_mode()
def head_importance(bert, pair: dict) -> tuple[float, np.ndarray]:
    """(similarity with every head on, float64[L, H] similarity with that head alone off): the
    L·H + 1 ablations as one climbing batch (see climbing_batch)."""
    L, H = bert.config.num_hidden_layers, bert.config.num_attention_heads

    @contextlib.contextmanager
    def newest_rows_ablated(layer, rows, block):
        attn = block.attention.self
        keep = torch.ones(rows, H, device=pair["input_ids"].device)
        new = torch.arange(2 * H, device=keep.device)
        keep[rows - 2 * H + new, new // 2] = 0.0  # rows 2h, 2h+1 of the newest copies: head h off
        factor = keep.repeat_interleave(attn.attention_head_size, dim=1)[:, None, :]  # (B_l, 1, D)
        hook = attn.register_forward_hook(in_this_thread(lambda output: (output[0] * factor, output[1])))
        try:
            yield
        finally:
            hook.remove()

    states = climbing_batch(bert, pair, newest_rows_ablated)
    emb = mean_pooled(states, pair["attention_mask"].repeat(L * H + 1, 1)).view(-1, 2, states.shape[-1])
    sims = (emb[:, 0] * emb[:, 1]).sum(-1).double().cpu().numpy()  # (L·H + 1,)
    return float(sims[0]), sims[1:].reshape(L, H)
