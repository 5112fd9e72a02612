"""Heads that track syntax (models/syntax_heads.py): word-level attention and the scoring, on a
tiny hand-made treebank whose arcs and attention are known, and the precomputed asset."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models.syntax_heads import OFFSETS, Sentence, score, summary, word_attention

REPO = Path(__file__).resolve().parent.parent
ASSET = REPO / "assets" / "analysis" / "syntax_heads.json"


def test_word_attention_sums_keys_averages_queries_and_leaves_out_specials_and_self():
    # [CLS] the dog ##s bark [SEP]: words the(0), dogs(1: two pieces), bark(2)
    ids = [-1, 0, 1, 1, 2, -1]
    a = np.full((6, 6), 1 / 6)
    a[2] = [0, 0.5, 0, 0.1, 0.4, 0]  # "dog" piece
    a[3] = [0, 0.3, 0.3, 0, 0.2, 0.2]  # "##s" piece
    w = word_attention(a[None, None], ids, 3)[0, 0]
    assert w.shape == (3, 3)
    assert w[1, 0] == pytest.approx((0.5 + 0.3) / 2)  # dogs -> the: the mean of its two pieces
    assert w[1, 2] == pytest.approx((0.4 + 0.2) / 2)
    assert w[1, 1] == 0 and w[0, 0] == 0  # no word predicts itself
    assert w[0, 1] == pytest.approx(2 / 6)  # the -> dogs: both pieces' keys summed


def test_scoring_on_a_hand_made_treebank():
    # "the dogs bark": the <-det- dogs <-nsubj- bark (root); "cats sleep": cats <-nsubj- sleep (root)
    first = Sentence(heads=(1, 2, -1), relations=("det", "nsubj", "root"))
    second = Sentence(heads=(1, -1), relations=("nsubj", "root"))
    # One layer, two heads. Head 0 looks one word right; head 1 looks at word 0.
    right = np.array([[0, 1, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
    first_word = np.array([[0, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=float)
    a1 = np.stack([right, first_word])[None]  # [1, 2, 3, 3]
    a2 = np.array([[[[0, 1], [1, 0]], [[0, 1], [1, 0]]]], dtype=float)  # [1, 2, 2, 2]
    tallies = score([a1, a2], [first, second])
    assert set(tallies) == {"det", "nsubj"}  # the roots are not scored
    assert tallies["nsubj"].count == 2 and tallies["det"].count == 1
    # dep -> head, head 0 (one right): det right (the -> dogs), nsubj right twice (dogs -> bark, cats -> sleep)
    assert tallies["det"].dep_to_head.tolist() == [[1, 0]]
    assert tallies["nsubj"].dep_to_head.tolist() == [[2, 1]]
    # head -> dep: who attends most to "dogs" in head 0 is "the" (column argmax, first maximum), not "bark"
    assert tallies["nsubj"].head_to_dep[0, 0] == 1  # only "cats" <- "sleep"
    out = summary(tallies)
    assert out["nsubj"]["baseline"] == {"offset": 1, "accuracy": 1.0}  # every nsubj's head is the next word here
    assert out["det"]["dep_to_head"] == [[1.0, 0.0]] and list(out) == ["nsubj", "det"]  # most frequent first


def test_the_asset_holds_every_relation_with_grids_and_a_baseline():
    data = json.loads(ASSET.read_text(encoding="utf-8"))
    assert ASSET.stat().st_size < 1_000_000 and "CC BY-SA 4.0" in data["licence"]
    relations = data["relations"]
    assert {"det", "nsubj", "obj", "amod", "case"} <= set(relations)
    for r in relations.values():
        assert np.array(r["dep_to_head"]).shape == (data["layers"], data["heads"]) == np.array(r["head_to_dep"]).shape
        assert 0 <= np.min(r["dep_to_head"]) and np.max(r["dep_to_head"]) <= 1 and r["count"] > 0
        assert r["baseline"]["offset"] in OFFSETS and 0 <= r["baseline"]["accuracy"] <= 1
    # Clark et al.'s finding holds for MiniLM too: some head finds a determiner's noun far above position.
    det = relations["det"]
    assert max(np.max(det["dep_to_head"]), np.max(det["head_to_dep"])) > det["baseline"]["accuracy"]
