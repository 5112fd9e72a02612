"""Gradient saliency of a decision, per input word: gradient × input and integrated gradients.

For a score f (the logit of the chosen label or tag) of the word vectors x_1 … x_n a model reads:
    gradient × input:      s_i = Σ_d x_id · ∂f/∂x_id (x)                     (Shrikumar et al. 2016)
    integrated gradients:  IG_i = Σ_d (x_id - x'_id) · (1/m) Σ_k ∂f/∂x_id (x' + α_k (x - x')),
                           α_k = (k + ½)/m, k = 0 … m-1, baseline x' = 0   (Sundararajan et al. 2017)
IG's completeness: Σ_i IG_i → f(x) - f(x') as the m steps grow; the result reports both sides.
All m path points and x itself run as one batch, so IG costs one forward and one backward.

Which vectors: the NLI model's word vectors a_i, b_j that its attend step reads (the same vectors
its alignment weights are over), and the tagger's per-word input [word embedding; character CNN;
MiniLM vector] (its BiLSTM reads these). Gradients come from torch.autograd.grad, which returns them
and leaves no .grad on the shared models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .rollout import rollout

DEFAULT_STEPS = 32


@dataclass
class Attribution:
    """Per-word saliency of one score, for each input tensor x [n, D] of the model.

    gradient_x_input: list of float64[n], Σ_d x · ∂f/∂x at x
    integrated_gradients: list of float64[n], Σ_d (x - 0) · mean over the path of ∂f/∂x
    score: f(x); baseline_score: f(0); steps: m
    """

    gradient_x_input: list[np.ndarray]
    integrated_gradients: list[np.ndarray]
    score: float
    baseline_score: float
    steps: int

    @property
    def completeness_gap(self) -> float:
        """|Σ IG - (f(x) - f(0))|: how far m steps are from the exact path integral."""
        total = sum(float(ig.sum()) for ig in self.integrated_gradients)
        return abs(total - (self.score - self.baseline_score))


def attribute(
    f: Callable[..., torch.Tensor], inputs: Sequence[torch.Tensor], steps: int = DEFAULT_STEPS
) -> Attribution:
    """Gradient × input and integrated gradients (zero baseline, midpoint rule, `steps` points)
    of f(*batch) -> [S] scores, where each input is [n, D] and f reads a batch [S, n, D] of them."""
    if not 1 <= steps <= 256:
        raise ValueError(f"Integrated gradients needs 1 to 256 steps, got {steps}.")
    x = [t.detach() for t in inputs]
    alphas = (torch.arange(steps, device=x[0].device, dtype=x[0].dtype) + 0.5) / steps  # (m,)
    # Rows: m path points, then x itself (α = 1), then the baseline (α = 0) for completeness.
    scale = torch.cat([alphas, alphas.new_tensor([1.0, 0.0])])  # (m + 2,)
    batch = [(scale[:, None, None] * t[None]).requires_grad_(True) for t in x]  # (m + 2, n, D) each
    scores = f(*batch)  # (m + 2,)
    grads = torch.autograd.grad(scores[: steps + 1].sum(), batch)
    scores = scores.detach()
    gxi = [(t * g[steps]).sum(-1).double().cpu().numpy() for t, g in zip(x, grads)]
    ig = [(t * g[:steps].mean(0)).sum(-1).double().cpu().numpy() for t, g in zip(x, grads)]
    return Attribution(gxi, ig, float(scores[steps]), float(scores[steps + 1]), steps)


# -- NLI: the decomposable attention model's word vectors ------------------------------------
@dataclass
class NLISaliency:
    """Saliency of the NLI label, next to the model's attention over the same words.

    premise_tokens [m], hypothesis_tokens [n] (word 0 the NULL word); label: the predicted label
    attribution: Attribution with inputs (premise vectors a [m, D], hypothesis vectors b [n, D])
    premise_attention: float[m], Σ_j α_ji, the weight the hypothesis words put on premise word i
    hypothesis_attention: float[n], Σ_i β_ij, the weight the premise words put on hypothesis word j
    premise_contribution [m], hypothesis_contribution [n]: leave-one-out drop of the label's score
    """

    premise_tokens: list[str]
    hypothesis_tokens: list[str]
    label: str
    attribution: Attribution
    premise_attention: np.ndarray
    hypothesis_attention: np.ndarray
    premise_contribution: np.ndarray
    hypothesis_contribution: np.ndarray


def nli_saliency(nli, premise, hypothesis, steps: int = DEFAULT_STEPS) -> NLISaliency:
    """The NLI model's label on one pair; premise / hypothesis are str or what nli.read gave."""
    model = nli.model
    p, h = (
        s if not isinstance(s, str) else nli.read(s, what)
        for s, what in ((premise, "The premise"), (hypothesis, "The hypothesis"))
    )
    with torch.no_grad():
        model.words.run_frozen([p, h], keep_on_device=True)
        A, mask_a = model.words.collate([p])  # (1, m, D)
        B, mask_b = model.words.collate([h])  # (1, n, D)
        out = model.da(A, B, mask_a, mask_b)
        label = out.logits.argmax(-1)  # (1,)
        drop_a, drop_b = model.da.leave_one_out(out, mask_a, mask_b, label)
    c = int(label)

    def score(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        S = a.shape[0]
        return model.da(a, b, mask_a.expand(S, -1), mask_b.expand(S, -1)).logits[:, c]

    attribution = attribute(score, [A[0], B[0]], steps)
    al = out.attended

    def np64(t):
        return t[0].double().cpu().numpy()

    return NLISaliency(
        premise_tokens=p.words,
        hypothesis_tokens=h.words,
        label=nli.labels[c],
        attribution=attribution,
        premise_attention=np64(al.hypothesis_to_premise.sum(1)),  # (m,): column sums of α [n, m]
        hypothesis_attention=np64(al.premise_to_hypothesis.sum(1)),  # (n,): column sums of β [m, n]
        premise_contribution=np64(drop_a),
        hypothesis_contribution=np64(drop_b),
    )


# -- the tagger: its per-word input vectors ------------------------------------------------------
@dataclass
class TagSaliency:
    """Saliency of one token's tag, next to MiniLM's attention rollout from that token.

    tokens [n]; index: the token whose tag is explained; tag: its predicted tag
    attribution: Attribution with one input, the tagger's word vectors [n, D]
    rollout: float64[n] or None, the rollout row of the token (mean over its pieces) summed over
        each word's pieces (what MiniLM's attention mixed into the vector the tagger reads for it;
        [CLS] / [SEP] are left out, so the row sums to at most 1); None without MiniLM vectors
    """

    tokens: list[str]
    index: int
    tag: str
    attribution: Attribution
    rollout: np.ndarray | None


def tag_saliency(tagger, tokens: list[str], index: int, steps: int = DEFAULT_STEPS) -> TagSaliency:
    """Why `tokens[index]` got its tag: saliency over the tagger's word vectors, and the rollout.
    MiniLM runs once: its last states are the tagger's vectors, its attentions the rollout's."""
    if not 0 <= index < len(tokens):
        raise ValueError(f"Token #{index} does not exist: the text has tokens 0-{len(tokens) - 1}.")
    model = tagger.model
    with torch.no_grad():
        vectors, row = minilm_vectors_and_rollout(tagger, tokens, index)
        x = tagger.inputs([tokens], vectors)
        X = model.embed(x)[0]  # (n, D); dropout is off in eval mode
        c = int(model.out(model.encode(X[None], x.lengths))[0, index].argmax())

    def score(batch: torch.Tensor) -> torch.Tensor:
        S = batch.shape[0]
        states = model.encode(batch, x.lengths.repeat(S))  # (S, n, 2H)
        return model.out(states[:, index])[:, c]

    with torch.backends.cudnn.flags(enabled=False):  # cuDNN's LSTM backward needs training mode
        attribution = attribute(score, [X], steps)
    return TagSaliency(tokens=list(tokens), index=index, tag=tagger.tagset[c], attribution=attribution, rollout=row)


@torch.no_grad()
def minilm_vectors_and_rollout(tagger, tokens: list[str], index: int):
    """([vectors float[n, 384]] for tagger.inputs, the rollout row float64[n]) from ONE MiniLM
    forward, or (None, None) when the tagger reads no contextual MiniLM vectors."""
    pieces = tagger.pieces
    if pieces is None or pieces.mode != "contextual":
        return None, None
    batch = pieces.piece_batch([tokens])
    out = pieces.encoder(input_ids=batch.ids, attention_mask=batch.attention, output_attentions=True)
    vectors = torch.bmm(batch.pool, out.last_hidden_state)[0, : len(tokens)]  # (n, 384), as vectors() gives
    R = rollout(torch.cat(out.attentions).float().cpu().numpy())  # (P, P)
    pool = batch.pool[0].double().cpu().numpy()  # (n, P): mean over each word's pieces
    row = (pool[index] @ R) @ (pool > 0).T.astype(np.float64)  # (n,): summed over each word's key pieces
    return [vectors], row
