"""Inside BERT self-attention, with the model's own numbers: one head step by step, the learned
position embeddings, attention with and without them on a shuffled sentence, and attention rollout.

One layer l of a BERT encoder, for the T word pieces stacked as rows of X [T, D] (Vaswani et al.
2017, section 3.2; Devlin et al. 2019):
    layer 1's X = LayerNorm(word + position + segment embeddings)
    head h:  Q_h = X W_Q[h] + b, K_h = X W_K[h] + b, V_h = X W_V[h] + b      [T, d_k], d_k = D / H
             A_h = softmax(Q_h K_hᵀ / √d_k)                                  [T, T], rows sum to 1
             O_h = A_h V_h                                                    [T, d_k]
    block:   LayerNorm(X + concat(O_1 .. O_H) W_Oᵀ + b_O), then the feed-forward block
Rollout (Abnar & Zuidema 2020, "Quantifying attention flow in transformers"):
    Â_l = rows renormalized of 0.5 · mean_h A_l + 0.5 · I (the residual), R = Â_L ⋯ Â_1.
The computations below use the modules' weights directly; tests/test_inside_attention.py checks
them against forward hooks on the transformers modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .hooks import in_this_thread
from .rollout import rollout  # noqa: F401 - part of this module's API


@dataclass
class InsideHead:
    """One head of one layer for one input (layer, head 0-based, as in attentions[layer, head]).

    tokens: list[str], the T word pieces (as Encoder.attend gives them)
    x: float32[T, D], the layer's input X (layer 0: LayerNorm of the three embeddings below)
    word, position, segment: float32[T, D], the embedding rows summed into layer 0's X (None for
        later layers, whose X is the previous layer's output)
    q, k, v: float32[T, d_k], this head's slices of X W_Qᵀ + b_Q, X W_Kᵀ + b_K, X W_Vᵀ + b_V
    scores: float32[T, T], q kᵀ / √d_k before the softmax
    weights: float32[T, T], softmax of scores over keys, rows sum to 1 (= attentions[layer, head])
    model_weights: float32[T, T], the same map as the transformers forward returned it (what the
        Self-attention grid shows), for comparison with weights
    output: float32[T, d_k], weights @ v, this head's part of the context layer
    concat: float32[T, D], all heads' outputs side by side (head h at columns h·d_k … (h+1)·d_k), as
        the module's forward computed them
    projected: float32[T, D], concat W_Oᵀ + b_O
    residual: float32[T, D], projected + x
    attention_output: float32[T, D], LayerNorm(residual), what the feed-forward block reads
    layer_output: float32[T, D], after the feed-forward block: the next layer's input
    """

    tokens: list[str]
    layer: int
    head: int
    d_k: int
    x: np.ndarray
    word: np.ndarray | None
    position: np.ndarray | None
    segment: np.ndarray | None
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    scores: np.ndarray
    weights: np.ndarray
    model_weights: np.ndarray
    output: np.ndarray
    concat: np.ndarray
    projected: np.ndarray
    residual: np.ndarray
    attention_output: np.ndarray
    layer_output: np.ndarray


def check_layer_head(bert, layer: int, head: int) -> tuple[int, int]:
    """0-based (layer, head), or ValueError naming the range this model has."""
    L, H = bert.config.num_hidden_layers, bert.config.num_attention_heads
    layer, head = int(layer), int(head)
    if not (0 <= layer < L and 0 <= head < H):
        raise ValueError(
            f"Layer {layer}, head {head} does not exist (0-based): this model has layers 0-{L - 1}, heads 0-{H - 1}."
        )
    return layer, head


def embedding_parts(bert, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The three embedding rows of each piece, before they are summed and normalized: (word,
    position, segment), each [B, T, D] (position [1, T, D]: the same for every row)."""
    emb = bert.embeddings
    T = input_ids.shape[1]
    positions = torch.arange(T, device=input_ids.device)[None]  # (1, T)
    return emb.word_embeddings(input_ids), emb.position_embeddings(positions), emb.token_type_embeddings(token_type_ids)


@torch.inference_mode()
def inside_head(bert, tokens: list[str], inputs: dict, layer: int, head: int) -> InsideHead:
    """Every step of head `head` in layer `layer` for one encoded input (a batch of one: the
    tokenizer's input_ids, token_type_ids, attention_mask on the model's device)."""
    layer, head = check_layer_head(bert, layer, head)
    # The layers up to `layer` and no further (one sentence: no padding, so no mask); a hook keeps
    # the map the module itself computes, which the grid shows.
    X = bert.embeddings(input_ids=inputs["input_ids"], token_type_ids=inputs["token_type_ids"])  # (1, T, D)
    for block in bert.encoder.layer[:layer]:
        X = block(X)
    block = bert.encoder.layer[layer]
    attn = block.attention.self
    seen = {}  # the module's own context layer (all heads) and map (the grid's)
    hook = attn.register_forward_hook(in_this_thread(lambda output: seen.update(context=output[0], weights=output[1])))
    try:
        layer_output = block(X)[0]  # (T, D)
    finally:
        hook.remove()
    X = X[0]  # (T, D), the input of `layer`
    d = attn.attention_head_size
    cols = slice(head * d, (head + 1) * d)  # this head's rows of W_Q, W_K, W_V
    q = X @ attn.query.weight[cols].T + attn.query.bias[cols]  # (T, d)
    k = X @ attn.key.weight[cols].T + attn.key.bias[cols]  # (T, d)
    v = X @ attn.value.weight[cols].T + attn.value.bias[cols]  # (T, d)
    scores = q @ k.T / d**0.5  # (T, T); one sentence, so no padding to mask
    weights = torch.softmax(scores, dim=-1)  # (T, T)
    output = weights @ v  # (T, d)
    # The other heads as the module computed them (tests check this head's slice against ours).
    concat = seen["context"][0]  # (T, D)
    dense = block.attention.output
    projected = concat @ dense.dense.weight.T + dense.dense.bias  # (T, D)
    residual = projected + X
    attention_output = dense.LayerNorm(residual)  # (T, D)
    word = position = segment = None
    if layer == 0:
        word, position, segment = (
            t[0].float().cpu().numpy() for t in embedding_parts(bert, inputs["input_ids"], inputs["token_type_ids"])
        )

    def np32(t: torch.Tensor) -> np.ndarray:
        return t.float().cpu().numpy()

    return InsideHead(
        tokens=tokens,
        layer=layer,
        head=head,
        d_k=d,
        x=np32(X),
        word=word,
        position=position,
        segment=segment,
        q=np32(q),
        k=np32(k),
        v=np32(v),
        scores=np32(scores),
        weights=np32(weights),
        model_weights=np32(seen["weights"][0, head]),
        output=np32(output),
        concat=np32(concat),
        projected=np32(projected),
        residual=np32(residual),
        attention_output=np32(attention_output),
        layer_output=np32(layer_output),
    )


@torch.inference_mode()
def position_similarity(bert, count: int = 64) -> np.ndarray:
    """Cosine similarity of the first `count` learned position embeddings p_0 … p_{count-1}: float32[count, count]."""
    p = bert.embeddings.position_embeddings.weight[:count].float()  # (N, D)
    p = p / p.norm(dim=-1, keepdim=True).clamp(min=1e-12)
    return (p @ p.T).cpu().numpy()


@dataclass
class ShuffleExperiment:
    """One sentence and the same word pieces with the words in another order, each read with and
    without the position embeddings (p_t = 0).

    tokens: list[str], the T pieces in their order; shuffled_tokens: list[str], shuffled_tokens[i] =
        tokens[order[i]] ([CLS] and [SEP] stay where they are, a word's pieces stay together)
    order: int[T], the permutation
    attentions: float32[2 (original, shuffled), 2 (with, without positions), L, H, T, T]
    """

    tokens: list[str]
    shuffled_tokens: list[str]
    order: np.ndarray
    attentions: np.ndarray

    def permuted_original(self, positions: bool) -> np.ndarray:
        """The original's maps [L, H, T, T] with rows and columns put in the shuffled order: P A Pᵀ."""
        a = self.attentions[0, 0 if positions else 1]
        return a[..., self.order, :][..., self.order]

    def difference(self, positions: bool) -> np.ndarray:
        """float[L, H]: max |A_shuffled - P A_original Pᵀ| per head; ~1e-7 without positions."""
        return np.abs(self.attentions[1, 0 if positions else 1] - self.permuted_original(positions)).max(axis=(-1, -2))


def shuffled_order(word_ids: list[int | None], seed: int) -> np.ndarray:
    """A permutation of the pieces that moves whole words (special tokens, word id None, stay put);
    never the identity when there are two different words. ValueError with fewer than two words."""
    words = list(dict.fromkeys(w for w in word_ids if w is not None))
    if len(words) < 2:
        raise ValueError("Shuffling needs at least two words: type a longer sentence.")
    rng = np.random.default_rng(seed)
    new_words = list(words)
    while new_words == words:
        new_words = [words[i] for i in rng.permutation(len(words))]
    pieces_of = {w: [i for i, x in enumerate(word_ids) if x == w] for w in words}
    slots = [i for i, w in enumerate(word_ids) if w is not None]  # where word pieces sit
    moved = [i for w in new_words for i in pieces_of[w]]
    order = np.arange(len(word_ids))
    order[slots] = moved
    return order


@torch.inference_mode()
def shuffle_experiment(
    bert, tokens: list[str], inputs: dict, word_ids: list[int | None], seed: int = 0
) -> ShuffleExperiment:
    """Run original and shuffled ids, each with and without position embeddings, as one batch of 4."""
    order = shuffled_order(word_ids, seed)
    ids = inputs["input_ids"][0]
    batch = {
        "input_ids": torch.stack([ids, ids, ids[order], ids[order]]),  # (4, T)
        "token_type_ids": inputs["token_type_ids"].expand(4, -1),
        "attention_mask": inputs["attention_mask"].expand(4, -1),
    }
    keep = torch.tensor([1.0, 0.0, 1.0, 0.0], device=ids.device)[:, None, None]  # rows 1 and 3: p_t = 0

    def no_positions(output):  # output (1, T, D), broadcast over the batch
        return output * keep

    hook = bert.embeddings.position_embeddings.register_forward_hook(in_this_thread(no_positions))
    try:
        out = bert(**batch, output_attentions=True)
    finally:
        hook.remove()
    a = torch.stack(out.attentions, dim=1).float().cpu().numpy()  # (4, L, H, T, T)
    L, H, T = a.shape[1], a.shape[2], a.shape[3]
    return ShuffleExperiment(
        tokens=list(tokens),
        shuffled_tokens=[tokens[i] for i in order],
        order=order,
        attentions=a.reshape(2, 2, L, H, T, T),
    )
