"""Across a corpus (explorer/views/corpus/): each section's numbers against an independent
computation, the bundled analyses' sums and sizes, and the contexts CLI rebuilt byte for byte."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import numpy as np
import pytest

from explorer import VIEWS
from explorer.core.projection import pca_2d
from explorer.views.corpus import analysis
from explorer.views.corpus import contexts_section as contexts
from explorer.views.corpus import errors_section as errors
from explorer.views.corpus import heads_section as syntax_heads
from explorer.web import deep_links
from models.runtime import RUNTIME

REPO = Path(__file__).resolve().parent.parent
ANALYSIS = REPO / "assets" / "analysis"
pytestmark = pytest.mark.bundled


@pytest.fixture(scope="module")
def encoder():
    return RUNTIME.get("encoder")


def test_pca_agrees_with_the_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6)) * np.array([5, 3, 1, 0.5, 0.2, 0.1])
    points, share = pca_2d(x)
    values, vectors = np.linalg.eigh(np.cov(x, rowvar=False))  # ascending
    top = vectors[:, ::-1][:, :2]
    assert share == pytest.approx(values[::-1][:2] / values.sum(), rel=1e-9)
    expected = (x - x.mean(0)) @ top
    for k in range(2):  # each axis up to its sign
        assert np.allclose(points[:, k], expected[:, k]) or np.allclose(points[:, k], -expected[:, k])
    assert pca_2d(x[:1])[0].shape == (1, 2) and pca_2d(x[:2])[0].shape == (2, 2)


def test_the_best_head_per_relation_is_the_assets_maximum():
    relations = json.loads((ANALYSIS / "syntax_heads.json").read_text(encoding="utf-8"))["relations"]
    for b in analysis.best_heads():
        scores = relations[b.relation]
        best = max(max(max(row) for row in scores[d]) for d in ("dep_to_head", "head_to_dep"))
        assert b.accuracy == best and scores[b.direction][b.layer - 1][b.head - 1] == best
        assert b.count >= analysis.MIN_COUNT and b.baseline == scores["baseline"]["accuracy"]
    det = next(b for b in analysis.best_heads() if b.relation == "det")
    assert det.accuracy > det.baseline + 0.15  # a determiner head far above "the next word"


def test_your_sentence_table_is_each_heads_argmax(encoder):
    r = analysis.analyze("The old man saw a small dog in the park.", encoder)
    table = analysis.heads_table(r)
    det = next(b for b in analysis.best_heads() if b.relation == "det")
    column = next(c for c in table.columns if c.startswith(f"L{det.layer}H{det.head} ") and "det" in c)
    attention = r.attention[det.layer - 1, det.head - 1]
    for i, cell in enumerate(table[column]):
        assert cell == f"{attention[i].argmax()}: {r.words[attention[i].argmax()]}"
    assert table[column][0] == "2: man"  # "The" -> "man", the gold arc
    assert r.words == ["The", "old", "man", "saw", "a", "small", "dog", "in", "the", "park", "."]


def test_the_syntax_section_counts_gold_arcs_it_finds(encoder):
    ex = syntax_heads.examples()[0]
    r = syntax_heads.analyze("A dog barks.", "det", "dep_to_head", 3, 9, 0, encoder)
    # Independent: the head's piece-level attention through the word-level procedure by hand.
    a = encoder.word_attention(ex["words"])[2, 8]
    assert np.allclose(r.example_attention, a)
    gold = [(i, h) for i, (h, rel) in enumerate(zip(ex["heads"], ex["relations"])) if rel == "det"]
    hits = sum(int(a[i].argmax() == h) for i, h in gold)
    out = syntax_heads.figures(r)
    assert f"finds {hits} of its {len(gold)} det arcs" in out["status"]
    assert "80.6 % of EWT dev's det dependents" in out["status"]
    ringed = [t for t in out["corpus_sentence"]["data"] if t.get("mode") == "markers"][0]
    assert len(ringed["x"]) == sum(h >= 0 for h in ex["heads"])  # one ring per gold arc
    table = syntax_heads.best_table()
    assert "94.3 vs 51.7" in table.set_index("relation").loc["det"].iloc[-1]
    with pytest.raises(ValueError, match="relation must be one of"):
        syntax_heads.analyze("A dog barks.", "subject", "dep_to_head", 3, 9, 0, encoder)
    with pytest.raises(ValueError, match="at least two words"):
        syntax_heads.analyze("Hi", "det", "dep_to_head", 3, 9, 0, encoder)


def test_the_errors_section_filters_match_the_confusion_cells():
    tagger = errors.source("tagger")
    tags = list(tagger.labels)
    e = errors.analyze("tagger", "NOUN", "PROPN", "confident")
    assert len(e.matching) == tagger.confusion[tags.index("NOUN"), tags.index("PROPN")] == 131
    confidences = [r["confidence"] for r in e.matching]
    assert confidences == sorted(confidences, reverse=True)
    assert len(errors.analyze("tagger", "any", "any", "unsure").matching) == 923
    out = errors.figures(e)
    assert "96.32 %" in out["status"] and out["cells"].iloc[:, 1:].to_numpy().sum() == 25_094
    # Each row's link opens the tagger on its sentence, at its word.
    link = out["rows"]["open"][0]
    query = dict(parse_qsl(urlparse(link[link.index("(") + 1 : -1]).query))
    parsed = deep_links.parse(query, deep_links.declared(VIEWS))
    assert parsed.view == "tag" and parsed.notices == ()
    words = parsed.values["text"].split()
    assert words[int(parsed.values["token"])] == e.matching[0]["word"]
    with pytest.raises(ValueError, match="gold label must be one of any, ADJ"):
        errors.analyze("tagger", "noun", "any", "unsure")
    with pytest.raises(ValueError, match="model must be one of"):
        errors.analyze("parser", "any", "any", "unsure")


def test_text_reaching_the_errors_table_is_escaped():
    row = {"word": "<img src=x onerror=alert(1)>", "gold": "X", "predicted": "NOUN", "confidence": 0.5,
           "sentence_text": "[link](javascript:alert(1)) <b>bold</b>", "token": 0}  # fmt: skip
    source = errors.Source("tagger", "t", "h", ("X", "NOUN"), None, [row], errors.tagger_source().columns,
                           lambda r: "?view=tag&text=x")  # fmt: skip
    table = errors.rows_table(errors.Errors(source, "any", "any", "unsure", [row]))
    cells = " ".join(str(v) for v in table.iloc[0])
    assert "<img" not in cells and "<b>" not in cells and "](javascript" not in cells


def test_the_contexts_section_reads_the_asset_and_the_users_sentences(encoder):
    r = contexts.analyze("bank", contexts.YOUR_SENTENCES, "yours", 6, encoder)
    c = encoder.word_in_contexts("bank", contexts.YOUR_SENTENCES.splitlines())
    assert np.allclose(r.self_similarity, c.self_similarity)
    assert r.self_similarity[1] > r.self_similarity[-1]  # less alike with depth
    assert np.allclose(pca_2d(c.vectors[6])[0], r.points)
    corpus = contexts.analyze("work", "", "corpus", 6, encoder)
    assert set(corpus.tags) == {"NOUN", "VERB"}
    stored = json.loads((ANALYSIS / "contexts.json").read_text(encoding="utf-8"))["words"]["work"]
    assert corpus.self_similarity == pytest.approx(stored["self_similarity"], abs=2e-4)
    for bad, message in [
        (("bank", "I sat on the bank.", "yours", 6), "at least two sentences"),
        (("bank", "A river.\nA field.", "yours", 6), "is not a word of the sentence"),
        (("bank", "", "corpus", 6), "no bundled EWT sentences"),
        (("two words", "a\nb", "yours", 6), "one word"),
        (("bank", "x bank\ny bank", "yours", 9), "layer must be a whole number from 0 to 6"),
    ]:
        with pytest.raises(ValueError, match=message):
            contexts.analyze(*bad, encoder)


def test_the_contexts_asset_holds_noun_and_verb_words_and_a_low_baseline():
    a = json.loads((ANALYSIS / "contexts.json").read_text(encoding="utf-8"))
    assert len(a["anisotropy"]) == 7 and all(0 <= v < 0.5 for v in a["anisotropy"])
    for word, found in a["words"].items():
        tags = [s["upos"] for s in found["sentences"]]
        assert tags.count("NOUN") >= 6 and tags.count("VERB") >= 6, word
        assert all(word in s["text"].lower().split() for s in found["sentences"])
    assert "CC BY-SA 4.0" in a["licence"]
    assert sum(p.stat().st_size for p in ANALYSIS.glob("*.json")) < 5_000_000


def test_the_contexts_cli_rebuilds_its_asset_byte_for_byte(tmp_path):
    out = tmp_path / "contexts.json"
    done = subprocess.run([sys.executable, "-m", "training.contexts", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_bytes() == (ANALYSIS / "contexts.json").read_bytes()
