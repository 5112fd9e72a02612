"""The NLI view's layers on a tiny random model: analyze -> AlignmentResult -> figures, CSV export, input limits."""

import csv

import numpy as np
import pytest

from explorer.core import figures as fg
from explorer.core.limits import MAX_CHARS, MAX_NLI_PIECES
from explorer.views.nli import analysis as view

HOSTILE = '<img src=x onerror="window.__xss=1"> </script><b>bold</b>'


def test_analyze_invariants(tiny_nli):
    r = view.analyze("A man plays the guitar.", "A person makes music.", tiny_nli)
    m, n = len(r.inferred.premise_tokens), len(r.inferred.hypothesis_tokens)
    assert (
        r.inferred.alignment.shape == (m, n)
        and r.inferred.premise_to_hypothesis.shape == (m, n)
        and r.inferred.hypothesis_to_premise.shape == (n, m)
    )
    assert np.allclose(r.inferred.premise_to_hypothesis.sum(1), 1, atol=1e-5) and np.allclose(
        r.inferred.hypothesis_to_premise.sum(1), 1, atol=1e-5
    )
    assert np.isclose(r.probs.sum(), 1) and r.inferred.label == r.inferred.labels[int(r.probs.argmax())]


@pytest.mark.parametrize("premise, hypothesis", [("Hi", "Hi"), ("A man plays the guitar.", "!"), (HOSTILE, HOSTILE)])
def test_figures_do_not_raise_and_escape_tokens(tiny_nli, premise, hypothesis):
    r = view.analyze(premise, hypothesis, tiny_nli)
    f = view.figures(r)
    for name in ("probs", "alignment", "beta", "alpha", "contribution"):
        assert f[name]["data"]
    ticks = " ".join(str(t) for t in f["alignment"]["layout"]["yaxis"]["ticktext"])
    assert "<img" not in ticks and "<b>" not in ticks  # plotly would render these as markup
    assert len(f["hard"]) == len(r.inferred.premise_tokens) + len(r.inferred.hypothesis_tokens)


def test_csv_export(tiny_nli, tmp_path):
    r = view.analyze("A man plays the guitar.", "A person makes music.", tiny_nli)
    paths = view.write_csvs(r, tmp_path)
    assert [p.split("/")[-1] for p in paths] == [
        "alignment_e.csv",
        "beta_premise_to_hypothesis.csv",
        "alpha_hypothesis_to_premise.csv",
    ]
    with open(paths[1], encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][1:] == fg.numbered(r.inferred.hypothesis_tokens) and rows[1][0] == "0: ∅"
    beta = np.array([[float(x) for x in row[1:]] for row in rows[1:]])
    assert np.allclose(beta, r.inferred.premise_to_hypothesis, atol=1e-5)


@pytest.mark.parametrize(
    "premise, hypothesis, message",
    [
        ("", "A dog.", "premise is empty"),
        ("A dog.", "\u200b\u202e ", "hypothesis is empty"),
        ("word " * (MAX_NLI_PIECES + 5), "A dog.", f"the limit is {MAX_NLI_PIECES}"),
        ("x" * (MAX_CHARS + 1), "A dog.", "characters"),
        (None, "A dog.", "premise is empty"),
    ],
)
def test_bad_input_is_a_value_error_with_a_message(tiny_nli, premise, hypothesis, message):
    with pytest.raises(ValueError, match=message):
        view.analyze(premise, hypothesis, tiny_nli)


def test_examples_name_their_source():
    import json

    pairs = json.loads(view.EXAMPLES.read_text(encoding="utf-8"))["pairs"]
    assert len(view.examples()) == len(pairs) >= 6
    assert all(e["source"].startswith(("SNLI test", "Breaking NLI")) for e in pairs)
