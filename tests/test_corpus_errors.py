"""Where the tagger is wrong over UD EWT test (training/corpus_errors.py): the precomputed asset
agrees with the model card, its matrix sums to the test set, and each error is one the tagger makes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.runtime import RUNTIME

REPO = Path(__file__).resolve().parent.parent
ASSET = REPO / "assets" / "analysis" / "errors_tagger.json"
pytestmark = pytest.mark.bundled


@pytest.fixture(scope="module")
def errors():
    return json.loads(ASSET.read_text(encoding="utf-8"))


def test_the_score_is_the_model_cards_and_the_matrix_sums_to_the_test_set(errors):
    card = json.loads((REPO / "assets" / "tagger" / "config.json").read_text(encoding="utf-8"))
    assert errors["accuracy"] == pytest.approx(card["scores"]["test_upos"], abs=1e-5)
    confusion = np.array(errors["confusion"])
    assert confusion.shape == (17, 17) and confusion.sum() == 25_094  # EWT test's words
    assert confusion.sum() - np.trace(confusion) == len(errors["errors"])
    assert ASSET.stat().st_size < 5_000_000 and "CC BY-SA 4.0" in errors["licence"]


def test_each_listed_error_is_what_the_tagger_predicts(errors):
    words = {s["id"]: s["words"] for s in errors["sentences"]}
    tagger = RUNTIME.get("tagger")
    for e in errors["errors"][:40:7]:
        sentence = words[e["sentence"]]
        assert sentence[e["token"]] == e["word"] and e["gold"] != e["predicted"]
        tagged = tagger.tag([sentence])[0]
        assert tagged.tags[e["token"]] == e["predicted"]
        p = float(tagged.probs[e["token"], list(tagger.tagset).index(e["predicted"])])
        assert p == pytest.approx(e["confidence"], abs=2e-3)
