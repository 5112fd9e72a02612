"""Where the NLI model is wrong: the bundled decomposable-attention model on SNLI test, MultiNLI dev
mismatched and Breaking NLI (python -m training.corpus_errors --only nli).

Pairs whose gold label is "-" are left out, as the model card does (training.nli_data.load). Per
set: accuracy (the card's), the 3 x 3 confusion (rows gold, columns predicted) and every wrong pair
with the model's probability for its prediction. SNLI and Breaking NLI (CC BY-SA 4.0) ship their
texts; MultiNLI's terms are unverified in our copy, so its errors carry only the pair's index.
Breaking NLI's category column is not in our copy (its README: dropped), so its pairs are grouped
by the word swapped instead, found by a word diff of premise and hypothesis.
"""

from __future__ import annotations

import difflib
import time
from collections import Counter

import numpy as np

from . import nli_data
from .nli_data import LABELS, Pair, lower_words

# asset key -> (the nli_data / config.json "tests" name, what the asset calls it, whether its texts ship)
SETS = {
    "snli_test": ("snli_test", "SNLI 1.0 test (Bowman et al. 2015)", True),
    "mnli_mismatched": ("mnli_dev_mismatched", "MultiNLI 1.0 dev mismatched (Williams et al. 2018)", False),
    "breaking_nli": ("breaking_nli", "Breaking NLI (Glockner et al. 2018)", True),
}
TOP_SWAPS = 40
OTHER = "other"  # pairs that differ in more (or other) than one word
LICENCE = (
    "SNLI 1.0 and Breaking NLI are CC BY-SA 4.0: their premise and hypothesis texts here are shared under "
    "CC BY-SA 4.0 (SNLI: The Stanford NLP Group, Bowman et al. 2015; Breaking NLI: Glockner, Shwartz and "
    "Goldberg 2018, built on SNLI). MultiNLI's terms are not verified in our copy, so none of its text is "
    "shipped: its errors give only the pair's index in multinli_1.0_dev_mismatched.tsv.gz after the '-' rows "
    "are dropped (our copy has no pairID or genre column)."
)


def swap(pair: Pair) -> str:
    """'premise word → hypothesis word' when the two differ in exactly one word (lower-cased
    treebank tokens, difflib's word diff); OTHER otherwise."""
    a, b = lower_words(pair.premise), lower_words(pair.hypothesis)
    changes = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    if len(changes) == 1:
        tag, i1, i2, j1, j2 = changes[0]
        if tag == "replace" and i2 - i1 == 1 and j2 - j1 == 1:
            return f"{a[i1]} → {b[j1]}"
    return OTHER


def by_swap(pairs: list[Pair], right: np.ndarray) -> dict:
    """Breaking NLI grouped by swapped word: the TOP_SWAPS most frequent with pairs and accuracy, and the rest."""
    swaps = [swap(p) for p in pairs]
    counts = Counter(s for s in swaps if s != OTHER)

    def group(mask: np.ndarray) -> dict:
        return {"pairs": int(mask.sum()), "accuracy": round(float(right[mask].mean()), 5)}

    names = np.array(swaps, dtype=object)
    top = sorted(counts, key=lambda s: (-counts[s], s))[:TOP_SWAPS]
    return {
        "note": "Breaking NLI's category column (antonyms, colours, countries, ...) is not in our copy: its README "
        "says the category, annotator_labels and pairID fields were dropped. So pairs are grouped by the one word "
        f"in which premise and hypothesis differ (a word diff; '{OTHER}': more than one word, or a word added or "
        f"left out); the {TOP_SWAPS} most frequent swaps are listed.",
        "one_word_pairs": int(sum(counts.values())),
        "distinct_swaps": len(counts),
        "swaps": {s: group(names == s) for s in top},
        OTHER: group(names == OTHER),
    }


def set_errors(key: str, pairs: list[Pair], gold: np.ndarray, probs: np.ndarray) -> tuple[dict, list[dict]]:
    """One set's summary and its errors, in file order (after the '-' rows are dropped); gold: int[len(pairs)]
    indices into LABELS, probs: float[len(pairs), 3]."""
    source, name, texts = SETS[key]
    predicted = probs.argmax(1)
    confusion = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    np.add.at(confusion, (gold, predicted), 1)
    summary = {"name": name, "file": nli_data.SHARED[source], "pairs": len(pairs),
               "accuracy": round(float((gold == predicted).mean()), 5), "confusion": confusion.tolist()}  # fmt: skip
    errors = []
    for i in np.flatnonzero(gold != predicted):
        error = {"set": key, "pair": int(i), "gold": LABELS[gold[i]], "predicted": LABELS[predicted[i]],
                 "confidence": round(float(probs[i, predicted[i]]), 4)}  # fmt: skip
        if texts:
            error.update(premise=pairs[i].premise, hypothesis=pairs[i].hypothesis)
        errors.append(error)
    return summary, errors


def nli_errors(nli) -> dict:
    """The asset's content for this NLI model on SETS."""
    sets, errors = {}, []
    for key, (source, _, _) in SETS.items():
        start = time.perf_counter()
        pairs = nli_data.load(source)
        probs = nli.predict(pairs)  # float[len(pairs), 3] in LABELS order
        gold = np.array([LABELS.index(p.label) for p in pairs])
        sets[key], wrong = set_errors(key, pairs, gold, probs)
        if key == "breaking_nli":  # categories: not in our copy (see by_swap's note)
            sets[key].update(categories=None, by_swap=by_swap(pairs, probs.argmax(1) == gold))
        errors += wrong
        print(f"  {key}: accuracy {sets[key]['accuracy']:.5f} of {len(pairs)} pairs, {len(wrong)} errors, "
              f"{time.perf_counter() - start:.0f} s")  # fmt: skip
    return {
        "model": "the bundled NLI model, decomposable attention over MiniLM word vectors (assets/nli)",
        "data": "SNLI 1.0 test, MultiNLI 1.0 dev mismatched and Breaking NLI from the shared data folder, "
        "pairs with gold label '-' left out (as assets/nli/MODEL_CARD.md scores them)",
        "licence": LICENCE,
        "command": "python -m training.corpus_errors --only nli",
        "labels": list(LABELS),
        "sets": sets,
        "errors": errors,
    }
