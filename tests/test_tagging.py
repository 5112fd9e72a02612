"""Tags view: tokenizer, probabilities, escaping, limits (tiny random tagger: no weights needed)."""

import numpy as np
import pytest

from explorer.core import figures as fg
from explorer.views import tagging
from models.text import treebank_tokenize


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("I don't know.", ["I", "do", "n't", "know", "."]),
        ("We're gonna win, aren't we?", ["We", "'re", "gon", "na", "win", ",", "are", "n't", "we", "?"]),
        ('She said "hi" (twice).', ["She", "said", '"', "hi", '"', "(", "twice", ")", "."]),
        ("the cats' toys", ["the", "cats", "'", "toys"]),
    ],
)
def test_tokenizer_splits_like_ewt(text, tokens):
    assert treebank_tokenize(text) == tokens


def test_probabilities_rows_sum_to_one(tiny_tagger):
    r = tiny_tagger.tag([["The", "cat", "sat", "."], ["Hi"]])
    assert [x.tokens for x in r] == [["The", "cat", "sat", "."], ["Hi"]]
    for x in r:
        assert x.probs.shape == (len(x.tokens), len(tiny_tagger.tagset))
        np.testing.assert_allclose(x.probs.sum(axis=1), 1.0, rtol=1e-5)
        assert x.tags == [tiny_tagger.tagset[i] for i in x.probs.argmax(axis=1)]


def test_batch_and_single_sentence_agree(tiny_tagger):
    """Padding a sentence inside a batch must not change its tags (packing at work)."""
    alone = tiny_tagger.tag([["Hi", "there"]])[0]
    batched = tiny_tagger.tag([["a", "much", "longer", "sentence", "here", "."], ["Hi", "there"]])[1]
    np.testing.assert_allclose(alone.probs, batched.probs, atol=1e-5)


def test_view_outputs(tiny_tagger):
    r = tagging.analyze("Time flies like an arrow.", tiny_tagger)
    f = tagging.figures(r, k=5)
    assert [t for t, label in f["tags"] if label] == r.tagged.tokens
    assert len(f["probs"]["data"][0]["x"]) >= 5
    assert list(f["table"]["token"]) == r.tagged.tokens
    assert len(tagging.legend()) == 17


def test_hostile_tokens_are_escaped_in_figures(tiny_tagger):
    r = tagging.analyze("<img src=x onerror=alert(1)> </script><b>bold</b>", tiny_tagger)
    fig = tagging.probs_figure(r)
    labels = list(fig["layout"]["yaxis"]["ticktext"]) + [str(c) for row in fig["data"][0]["customdata"] for c in row]
    assert not any("<" in s and "&lt;" not in s for s in labels)
    assert fg.label("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"


def test_emoji_cjk_and_invisible_characters(tiny_tagger):
    r = tagging.analyze("I ❤️ 東京\u200b and \u202eevil\u202c text", tiny_tagger)
    assert "東京" in r.tagged.tokens and "evil" in r.tagged.tokens
    assert not any("\u200b" in t or "\u202e" in t for t in r.tagged.tokens)


@pytest.mark.parametrize(
    "text, message",
    [("", "empty"), ("\u200b\u200b", "empty"), ("a " * 500, "500 tokens"), ("x" * 6000, "6000 characters")],
)
def test_bad_text_gets_a_clear_message(tiny_tagger, text, message):
    with pytest.raises(ValueError, match=message):
        tagging.analyze(text, tiny_tagger)
