"""The bundled tagger (assets/tagger): the Python API, accuracy on EWT dev, clear load errors."""

import shutil

import numpy as np
import pytest

from conftest import require

pytestmark = pytest.mark.bundled


def test_api_shapes(bundled_tagger):
    r = bundled_tagger.tag([["The", "cat", "sat", "."], ["Hi"]])
    assert [x.tokens for x in r] == [["The", "cat", "sat", "."], ["Hi"]]
    assert r[0].probs.shape == (4, len(bundled_tagger.tagset)) and len(bundled_tagger.tagset) == 17
    np.testing.assert_allclose(r[0].probs.sum(axis=1), 1.0, rtol=1e-5)
    assert r[0].tags == ["DET", "NOUN", "VERB", "PUNCT"]


def test_tokenize_then_tag_unknown_words(bundled_tagger):
    tokens = bundled_tagger.tokenize("She unfriended him, didn't she?")
    assert tokens == ["She", "unfriended", "him", ",", "did", "n't", "she", "?"]
    tags = bundled_tagger.tag([tokens])[0].tags
    assert tags[1] == "VERB"  # not in the training vocabulary; characters and MiniLM pieces carry it
    assert tags[5] == "PART"


def test_accuracy_on_ewt_dev(bundled_tagger):
    from training.ud import ewt_path, read_ewt

    require(ewt_path("dev").exists(), f"UD EWT dev not found at {ewt_path('dev')}")
    dev = read_ewt("dev")
    correct = total = 0
    for i in range(0, len(dev), 128):
        chunk = dev[i : i + 128]
        for s, r in zip(chunk, bundled_tagger.tag([s.words for s in chunk])):
            correct += sum(p == g for p, g in zip(r.tags, s.upos))
            total += len(s.words)
    assert correct / total >= 0.95, f"dev UPOS {correct / total:.4f}"


def test_missing_and_corrupt_weights_name_the_file(tmp_path):
    from models.tagger import ASSETS, load_tagger

    folder = tmp_path / "tagger"
    shutil.copytree(ASSETS, folder)
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(RuntimeError, match="model.safetensors"):
        load_tagger(folder)
    (folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors.*git checkout"):
        load_tagger(folder)
