"""Where each model is wrong (training/corpus_errors.py): the precomputed assets agree with the model
cards, their matrices sum to the test sets, each listed error is one the model makes now, and no
MultiNLI text ships."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sacrebleu

from models.runtime import RUNTIME
from training import nli_data
from training.corpus_errors_nli import SETS

REPO = Path(__file__).resolve().parent.parent
ANALYSIS = REPO / "assets" / "analysis"
ASSET = ANALYSIS / "errors_tagger.json"
NLI_ASSET = ANALYSIS / "errors_nli.json"
TRANSLATORS_ASSET = ANALYSIS / "errors_translators.json"
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


@pytest.fixture(scope="module")
def nli_errors():
    return json.loads(NLI_ASSET.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def translator_errors():
    return json.loads(TRANSLATORS_ASSET.read_text(encoding="utf-8"))


def test_nli_scores_are_the_model_cards_and_each_matrix_sums_to_its_set(nli_errors):
    card = json.loads((REPO / "assets" / "nli" / "config.json").read_text(encoding="utf-8"))["tests"]
    assert nli_errors["labels"] == list(nli_data.LABELS) and list(nli_errors["sets"]) == list(SETS)
    for key, (source, _, _) in SETS.items():
        s = nli_errors["sets"][key]
        assert s["pairs"] == card[source]["pairs"]
        assert round(s["accuracy"], 4) == card[source]["accuracy"]  # the card's 77.59 / 68.29 / 61.35 %
        confusion = np.array(s["confusion"])
        assert confusion.shape == (3, 3) and confusion.sum() == s["pairs"]
        assert np.trace(confusion) / s["pairs"] == pytest.approx(s["accuracy"], abs=5e-6)
        listed = [e for e in nli_errors["errors"] if e["set"] == key]
        assert confusion.sum() - np.trace(confusion) == len(listed)
    breaking = nli_errors["sets"]["breaking_nli"]
    assert breaking["categories"] is None and "not in our copy" in breaking["by_swap"]["note"]
    swaps = breaking["by_swap"]
    assert len(swaps["swaps"]) == 40 and swaps["one_word_pairs"] + swaps["other"]["pairs"] == breaking["pairs"]


def test_each_listed_nli_error_is_what_the_model_predicts(nli_errors):
    nli = RUNTIME.get("nli")
    by_set = {key: [e for e in nli_errors["errors"] if e["set"] == key] for key in SETS}
    mnli = nli_data.load(SETS["mnli_mismatched"][0])  # no MultiNLI text in the asset: read it from the data
    sample = by_set["snli_test"][:50:25] + by_set["breaking_nli"][:50:25] + by_set["mnli_mismatched"][:1]
    for e in sample:
        pair = (
            mnli[e["pair"]]
            if e["set"] == "mnli_mismatched"
            else nli_data.Pair(e["premise"], e["hypothesis"], e["gold"])
        )
        assert pair.label == e["gold"] != e["predicted"]
        result = nli.infer(pair.premise, pair.hypothesis)
        assert result.label == e["predicted"]
        assert result.probs[e["predicted"]] == pytest.approx(e["confidence"], abs=2e-3)


def test_no_multinli_text_ships(nli_errors):
    assert all(
        "premise" not in e and "hypothesis" not in e for e in nli_errors["errors"] if e["set"] == "mnli_mismatched"
    )
    strings = set()

    def collect(x):  # every string in the asset, keys included
        if isinstance(x, str):
            strings.add(x)
        for v in x.items() if isinstance(x, dict) else x if isinstance(x, list) else ():
            collect(v)

    collect(nli_errors)
    mnli = {s for p in nli_data.load(SETS["mnli_mismatched"][0]) for s in (p.premise, p.hypothesis)}
    assert not strings & mnli
    assert "CC BY-SA 4.0" in nli_errors["licence"] and "MultiNLI" in nli_errors["licence"]


def test_translator_bleu_is_evaluations_and_sentence_bleu_recomputes(translator_errors):
    evaluation = json.loads((REPO / "assets" / "translator" / "bleu_by_length.json").read_text(encoding="utf-8"))
    references = [s["reference"] for s in translator_errors["sentences"]]
    assert len(references) == 1000 and translator_errors["decoding"] == "beam 5"
    for variant, m in translator_errors["models"].items():
        assert m["bleu"] == evaluation["overall"][variant]["beam_5"]  # EVALUATION.md's 22.44 / 30.38 / 37.77
        assert m["signature"] == evaluation["metric"]
        assert round(sacrebleu.corpus_bleu(m["hypotheses"], [references]).score, 2) == m["bleu"]
        assert len(m["hypotheses"]) == len(m["sentence_bleu"]) == 1000
        for i in (0, 1, 2, 500, 999):
            assert sacrebleu.sentence_bleu(m["hypotheses"][i], [references[i]]).score == pytest.approx(
                m["sentence_bleu"][i], abs=0.005
            )
        assert m["sentence_bleu_median"] == round(float(np.median(m["sentence_bleu"])), 2)


def test_stored_translations_are_what_the_translators_give(translator_errors):
    for variant, m in translator_errors["models"].items():
        tr = RUNTIME.get(f"translator/{variant}")
        for i in (0, 7):
            source = translator_errors["sentences"][i]["source"]
            assert tr.translate(source, beam_size=5).text == m["hypotheses"][i]


def test_the_analysis_assets_fit_in_5_mb(nli_errors, translator_errors):
    assert sum(p.stat().st_size for p in ANALYSIS.glob("*.json")) <= 5_000_000
    assert "non-commercial" in translator_errors["licence"]
