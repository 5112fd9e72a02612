"""The batch layout equals what torch's own PackedSequence holds; the masked loss counts real tokens only."""

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from explorer.views.batching import analysis as batching
from models.masking import masked_cross_entropy, sequence_mask


def torch_packing(lay):
    return pack_padded_sequence(
        torch.as_tensor(lay.ids), torch.as_tensor(lay.lengths), batch_first=True, enforce_sorted=False
    )


@pytest.mark.parametrize("lengths", [[3, 2, 5], [1], [4, 4, 4], [2, 7, 1, 7, 3, 1, 6, 2], list(range(16, 0, -1))])
def test_layout_matches_torch_packed_sequence(lengths):
    rng = np.random.default_rng(len(lengths))
    ids = [list(rng.integers(2, 50, size=n)) for n in lengths]
    tokens = [[f"w{i}" for i in row] for row in ids]
    lay = batching.layout_tokens(tokens, ids)
    packed = torch_packing(lay)
    assert lay.batch_sizes.tolist() == packed.batch_sizes.tolist()
    assert lay.sorted_indices.tolist() == packed.sorted_indices.tolist()
    assert lay.unsorted_indices.tolist() == packed.unsorted_indices.tolist()
    assert lay.packed_ids.tolist() == packed.data.tolist()
    assert lay.mask.sum() == sum(lengths) == lay.batch_sizes.sum()
    assert lay.mask.sum(axis=1).tolist() == lengths
    assert lay.padding_fraction == pytest.approx(1 - sum(lengths) / (len(lengths) * max(lengths)))


def test_layout_of_text_uses_the_tagger_tokens_and_ids(tiny_tagger):
    lay = batching.layout(["The cat sat on the mat.", "Hi there"], tiny_tagger)
    assert lay.tokens == [["The", "cat", "sat", "on", "the", "mat", "."], ["Hi", "there"]]
    assert lay.ids.shape == (2, 7)
    assert lay.ids[1, 2:].tolist() == [0] * 5  # PAD id after the short sentence
    assert lay.ids[0, 0] == lay.ids[0, 4]  # "The" and "the" share the lower-cased word id
    assert lay.packed_tokens[:4] == ["The", "Hi", "cat", "there"]


def test_transformer_packing_puts_every_sentence_in_one_block():
    lengths = np.array([5, 3, 2, 4, 1])
    p = batching.pack_rows(lengths)
    assert p.row_length == 5
    for b, n in enumerate(lengths):
        assert (p.segments == b).sum() == n  # each sentence exactly once, never split
    assert p.padding_fraction == pytest.approx((p.segments < 0).mean())
    assert p.padding_fraction < 1 - lengths.sum() / (
        len(lengths) * lengths.max()
    )  # less padding than padding to longest
    mask = p.attention_mask(0)
    seg = p.segments[0]
    assert mask.tolist() == [[bool(a == b and a >= 0) for b in seg] for a in seg]


def test_masked_loss_equals_loss_over_real_tokens_only():
    torch.manual_seed(0)
    lengths = torch.tensor([4, 1, 3])
    logits = torch.randn(3, 4, 5)
    targets = torch.randint(0, 5, (3, 4))
    mask = sequence_mask(lengths)
    real = torch.cat(
        [
            torch.nn.functional.cross_entropy(logits[b, :n], targets[b, :n], reduction="none")
            for b, n in enumerate(lengths)
        ]
    )
    assert masked_cross_entropy(logits, targets, mask).item() == pytest.approx(real.mean().item(), rel=1e-6)
    # Changing the scores in PAD cells changes nothing.
    noisy = logits.clone()
    noisy[~mask] = 100 * torch.randn_like(noisy[~mask])
    assert masked_cross_entropy(noisy, targets, mask).item() == pytest.approx(real.mean().item(), rel=1e-6)


def test_analysis_of_example_batch(tiny_tagger):
    a = batching.analyze(batching.example_batch(), tiny_tagger)
    assert a.loss is not None and a.loss.token_loss.shape == a.layout.mask.shape
    assert a.loss.masked == pytest.approx(a.loss.token_loss[a.layout.mask].mean(), rel=1e-5)
    assert a.loss.unmasked == pytest.approx(a.loss.token_loss.mean(), rel=1e-5)
    f = batching.figures(a)
    assert "masked mean" in f["summary"] and f["loss"] is not None
    assert list(f["steps"]["batch_sizes[t]"]) == a.layout.batch_sizes.tolist()


def test_packing_cost_times_both_ways_and_compares_outputs(tiny_tagger):
    c = batching.packing_cost(batching.example_batch(), tiny_tagger, repeats=1)
    times = [c.padded_forward_ms, c.packed_forward_ms, c.padded_forward_backward_ms, c.packed_forward_backward_ms]
    assert all(t > 0 for t in times)
    assert c.max_state_difference > 1e-4  # the padded BiLSTM's backward pass read the PADs
    assert all(p.grad is None for p in tiny_tagger.model.parameters())  # timing left no gradients on the shared model
    assert "forward + backward" in batching.cost_markdown(c)


def test_analysis_without_gold_tags_says_so(tiny_tagger):
    a = batching.analyze("hello world\nthe cat", tiny_tagger)
    assert a.loss is None
    f = batching.figures(a)
    assert not f["loss"]["data"] and "needs gold tags" in f["summary"]  # an empty frame that says what it needs
    assert "dogs/NOUN" in f["loss"]["layout"]["annotations"][0]["text"]


def test_figures_work_for_one_token(tiny_tagger):
    f = batching.figures(batching.analyze("Hi", tiny_tagger))
    assert f["padded"]["data"][0]["z"].shape == (1, 1)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   \n\n", "empty"),
        ("\n".join(f"line {i}" for i in range(17)), "17 sentences"),
        ("a " * 500, "500 tokens"),
    ],
)
def test_bad_batches_get_a_clear_message(tiny_tagger, text, message):
    with pytest.raises(ValueError, match=message):
        batching.analyze(text, tiny_tagger)
    with pytest.raises(ValueError, match=message):
        batching.packing_cost(text, tiny_tagger, repeats=1)
