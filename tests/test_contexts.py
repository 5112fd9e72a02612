"""One word in many contexts (models/contexts.py): the word's vectors per layer against the
hidden states transformers returns, self-similarity against cosines computed by torch, and the
anisotropy baseline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from models.runtime import RUNTIME

pytestmark = pytest.mark.bundled
RIVER, MONEY, LOAN = "I sat on the bank of the river.", "The bank raised its rates.", "She asked the Bank for a loan."


@pytest.fixture(scope="module")
def encoder():
    return RUNTIME.get("encoder")


def test_the_vectors_are_the_mean_of_the_words_pieces_hidden_states(encoder):
    c = encoder.word_in_contexts("bank", [RIVER, MONEY, LOAN])
    assert c.vectors.shape == (encoder.layers + 1, 3, 384) and c.self_similarity.shape == (encoder.layers + 1,)
    assert c.spans == ((13, 17), (4, 8), (14, 18))  # "Bank" found whatever its case
    for b, sentence in enumerate((RIVER, MONEY, LOAN)):  # one sentence at a time, no padding, by word_ids
        enc = encoder.tokenizer(sentence, return_tensors="pt")
        with torch.no_grad():
            states = encoder.model(**enc, output_hidden_states=True).hidden_states
        word = [w for w in enc.word_ids(0) if w is not None]
        target = next(w for w in word if sentence.split()[w].strip(".").lower() == "bank")
        pieces = [i for i, w in enumerate(enc.word_ids(0)) if w == target]
        for layer in range(encoder.layers + 1):
            expected = states[layer][0, pieces].mean(dim=0).numpy()
            assert np.allclose(c.vectors[layer, b], expected, atol=1e-4), (b, layer)


def test_self_similarity_is_the_mean_pairwise_cosine_and_falls_with_depth(encoder):
    c = encoder.word_in_contexts("bank", [RIVER, MONEY, LOAN])
    v = torch.from_numpy(c.vectors)
    for layer in range(encoder.layers + 1):
        pairs = [F.cosine_similarity(v[layer, i], v[layer, j], dim=0) for i, j in ((0, 1), (0, 2), (1, 2))]
        assert c.self_similarity[layer] == pytest.approx(float(torch.stack(pairs).mean()), abs=1e-5)
    assert c.self_similarity[-1] < c.self_similarity[0] < 1.0  # Ethayarajh 2019: more contextual with depth
    one = encoder.word_in_contexts("river", [RIVER])
    assert one.vectors.shape[1] == 1 and np.isnan(one.self_similarity).all()  # a similarity needs two


def test_a_word_the_sentence_lacks_or_more_than_a_word_is_refused(encoder):
    with pytest.raises(ValueError, match="'bank' is not a word of the sentence 'The banker"):
        encoder.word_in_contexts("bank", [RIVER, "The banker smiled."])  # not inside another word
    with pytest.raises(ValueError, match="Give one word"):
        encoder.word_in_contexts("river bank", [RIVER])
    with pytest.raises(ValueError, match="at least one sentence"):
        encoder.word_in_contexts("bank", [])


def test_anisotropy_is_a_per_layer_baseline_and_repeatable(encoder):
    sentences = [RIVER, MONEY, LOAN, "A dog runs in the park.", "Two men play chess at a table."]
    base = encoder.anisotropy(sentences, pairs=200, seed=1)
    assert base.shape == (encoder.layers + 1,) and np.all((-1 < base) & (base < 1))
    assert np.array_equal(base, encoder.anisotropy(sentences, pairs=200, seed=1))
    c = encoder.word_in_contexts("bank", [RIVER, MONEY, LOAN])
    assert np.all(c.self_similarity > base)  # the same word stays closer to itself than random words are
