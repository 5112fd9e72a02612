"""The Transformer translator: attention written out equals torch's, the causal mask, shapes, search, weight files."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.transformer import MultiHeadAttention, beam_search, causal_mask, load_transformer, sinusoidal_positions
from models.translator import load_translator

from fakes import tiny_transformer

SENTENCES = ["A man rides a bike.", "Two dogs play in the snow while the children run.", "Hi", "A woman sings."]


def test_multi_head_attention_equals_scaled_dot_product_attention():
    torch.manual_seed(0)
    attention = MultiHeadAttention(d_model=24, heads=3, dropout=0.0).eval()
    queries, keys_values = torch.randn(2, 5, 24), torch.randn(2, 7, 24)
    allowed = torch.rand(2, 1, 5, 7) > 0.3
    allowed[..., 0] = True  # every query may read at least one key
    out, weights = attention(queries, keys_values, allowed)
    split = attention.split
    q, k, v = split(attention.w_q(queries)), split(attention.w_k(keys_values)), split(attention.w_v(keys_values))
    expected = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)  # (B, H, Tq, d_k)
    expected = attention.w_o(expected.transpose(1, 2).reshape(2, 5, 24))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    assert weights.shape == (2, 3, 5, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5))
    assert (weights[~allowed.expand(2, 3, 5, 7)] == 0).all()


def test_multi_head_attention_equals_torch_multihead_attention_with_the_same_weights():
    torch.manual_seed(1)
    ours = MultiHeadAttention(d_model=16, heads=4, dropout=0.0).eval()
    theirs = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.w_q.weight, ours.w_k.weight, ours.w_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.w_q.bias, ours.w_k.bias, ours.w_v.bias]))
        theirs.out_proj.weight.copy_(ours.w_o.weight), theirs.out_proj.bias.copy_(ours.w_o.bias)
    x = torch.randn(3, 6, 16)
    out, weights = ours(x, x, causal_mask(6))
    expected, expected_weights = theirs(x, x, x, attn_mask=~causal_mask(6), average_attn_weights=False)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights, expected_weights, atol=1e-6, rtol=1e-5)


def test_causal_mask_and_positions():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]
    table = sinusoidal_positions(50, 8)
    assert table.shape == (50, 8)
    torch.testing.assert_close(table[:, 0], torch.sin(torch.arange(50.0)))
    torch.testing.assert_close(table[:, 1], torch.cos(torch.arange(50.0)))


def check(t):
    S, T = len(t.source_tokens), len(t.target_tokens)
    layers, heads = t.encoder_attention.shape[:2]
    assert t.encoder_attention.shape == (layers, heads, S, S)
    assert t.decoder_attention.shape[2:] == (T, T) and t.cross_attention.shape[2:] == (T, S)
    assert t.attention.shape == (T, S)
    for a in (t.encoder_attention, t.decoder_attention, t.cross_attention, t.attention):
        np.testing.assert_allclose(a.sum(axis=-1), 1.0, rtol=1e-5)
    assert (np.triu(t.decoder_attention, k=1) == 0).all()  # a decoder position never reads a later one
    np.testing.assert_allclose(t.attention, t.cross_attention[-2].mean(axis=0))
    assert len(t.token_log_probs) == T


@pytest.mark.parametrize("beam_size", [1, 3])
@pytest.mark.parametrize("text", SENTENCES)
def test_every_attention_has_its_shape_rows_sum_to_one(text, beam_size):
    t = tiny_transformer().translate(text, beam_size=beam_size)
    check(t)
    assert t.beams[0] is t and 1 <= len(t.beams) <= beam_size
    for beam in t.beams:
        check(beam)


def test_teacher_forced_forward_matches_the_search():
    """The decoder row that writes target_tokens[t] gives the log-prob greedy search chose."""
    tr = tiny_transformer(seed=3)
    t = tr.translate("Two dogs play in the snow.")
    source = torch.tensor([tr.encode_source("Two dogs play in the snow.")[0]])
    ids = [tr.target_tokenizer.token_to_id(x) for x in t.target_tokens]
    logits, _ = tr.model(source, torch.tensor([[2] + ids[:-1]]))
    chosen = torch.log_softmax(logits[0], -1)[torch.arange(len(ids)), ids].detach().numpy()
    np.testing.assert_allclose(chosen, t.token_log_probs, atol=1e-5)


def test_translate_many_equals_translate_one_by_one():
    tr = tiny_transformer(seed=2)
    many = tr.translate_many([tr.encode_source(s) for s in SENTENCES])
    for text, batched in zip(SENTENCES, many):
        alone = tr.translate(text)
        assert batched.target_tokens == alone.target_tokens
        for name in ("encoder_attention", "decoder_attention", "cross_attention", "attention"):
            np.testing.assert_allclose(getattr(batched, name), getattr(alone, name), atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_equals_beam_size_one(seed):
    tr = tiny_transformer(seed=seed)
    for text in SENTENCES:
        greedy = tr.translate(text)
        beam = beam_search(tr.model, torch.tensor([tr.encode_source(text)[0]]), 1)[0]
        assert [tr.target_tokenizer.id_to_token(i) for i in beam.ids] == greedy.target_tokens


def test_empty_input_and_bad_beam_are_refused():
    tr = tiny_transformer()
    with pytest.raises(ValueError, match="no tokens"):
        tr.translate("   ")
    with pytest.raises(ValueError, match="beam_size"):
        tr.translate("A man.", beam_size=0)


def test_save_and_load_round_trip_through_load_translator(tmp_path):
    tr = tiny_transformer(seed=4)
    tr.save(tmp_path, fp16=False)
    loaded = load_translator(variant="transformer", folder=tmp_path)
    a, b = tr.translate("A man rides a bike."), loaded.translate("A man rides a bike.")
    assert a.target_tokens == b.target_tokens
    np.testing.assert_allclose(a.cross_attention, b.cross_attention, atol=1e-6)
    (tmp_path / "model.safetensors").write_bytes(b"not a weight file")
    with pytest.raises(RuntimeError, match="retrain with"):
        load_transformer(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    with pytest.raises(FileNotFoundError, match="tokenizer.json is missing"):
        load_transformer(tmp_path)
