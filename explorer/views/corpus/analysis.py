"""Across a corpus: what the precomputed analyses (assets/analysis/, each rebuilt by a training/
CLI) say about the bundled models, and the tab's own endpoint /corpus, your sentence read by the
heads that track syntax best across UD English EWT.

    asset(name)                         -> a bundled analysis (read once per process)
    best_heads()                        -> per relation, the head that finds it best, and its baseline
    analyze(text, encoder)              -> YourSentence: your words and every head's word-level attention
    figures(result)                     -> the scores table and the best heads on your words
The three sections (heads_section.py, errors_section.py, contexts_section.py) read the same assets.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.contract import RunInfo
from explorer.core.limits import MAX_ATTENTION_TOKENS, clean_text

ANALYSIS = Path(__file__).resolve().parents[3] / "assets" / "analysis"
COMMANDS = {
    "syntax_heads": "python -m training.syntax_heads",
    "contexts": "python -m training.contexts",
    "errors_tagger": "python -m training.corpus_errors",
    "errors_nli": "python -m training.corpus_errors",
    "errors_translators": "python -m training.corpus_errors",
}
# Clark et al. 2019 ("What does BERT look at?", figure 5): BERT-base's best single head against
# the best fixed offset, in % of the Penn Treebank's dependents (Stanford dependencies: "dobj"
# there is UD's "obj").
CLARK_BERT_BASE = {"det": (94.3, 51.7), "obj": (86.8, 40.0), "nsubj": (58.5, 45.5), "amod": (75.6, 68.3)}
MIN_COUNT = 100  # relations with fewer dependents in EWT dev are left out of the tables (noisy shares)
SHOWN_RELATIONS = ("det", "nsubj", "obj", "amod", "case", "advmod")  # your sentence through these heads
DIRECTIONS = {"dep_to_head": "dependent → head", "head_to_dep": "head → dependent"}


@cache
def asset(name: str) -> dict:
    """assets/analysis/<name>.json, or FileNotFoundError naming the command that rebuilds it."""
    path = ANALYSIS / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"The analysis {path.name} is not bundled: rebuild it with `{COMMANDS[name]}`.")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class BestHead:
    """The head (1-based layer, head) that predicts `relation`'s gold head most often, in the
    better of the two directions, against the best fixed offset."""

    relation: str
    count: int
    direction: str
    layer: int
    head: int
    accuracy: float
    baseline_offset: int
    baseline: float


def best_head(relation: str, scores: dict) -> BestHead:
    grids = {d: np.asarray(scores[d]) for d in DIRECTIONS}
    direction = max(DIRECTIONS, key=lambda d: (grids[d].max(), d == "dep_to_head"))
    layer, head = np.unravel_index(int(grids[direction].argmax()), grids[direction].shape)
    return BestHead(
        relation=relation,
        count=scores["count"],
        direction=direction,
        layer=int(layer) + 1,
        head=int(head) + 1,
        accuracy=float(grids[direction].max()),
        baseline_offset=scores["baseline"]["offset"],
        baseline=scores["baseline"]["accuracy"],
    )


@lru_cache(maxsize=1)
def best_heads(min_count: int = MIN_COUNT) -> tuple[BestHead, ...]:
    """Every relation with at least min_count dependents, most frequent first."""
    relations = asset("syntax_heads")["relations"]
    return tuple(best_head(r, s) for r, s in relations.items() if s["count"] >= min_count)


def best_for(relation: str) -> BestHead | None:
    """The best head of `relation` (None: a relation with too few dependents, or unknown)."""
    return next((b for b in best_heads() if b.relation == relation), None)


def relation_choices() -> list[str]:
    return [b.relation for b in best_heads()]


@cache
def scores_table() -> pd.DataFrame:
    """Each bundled model's headline score over its test set, read from the error analyses (equal
    to its model card's), one row per model and set; the analyses not bundled are left out."""
    rows = []
    try:
        tagger = asset("errors_tagger")
        rows.append(["Tagger (BiLSTM)", "UD EWT test", f"{len(tagger['errors']):,} of {_total(tagger):,} words wrong",
                     f"accuracy {tagger['accuracy'] * 100:.2f} %"])  # fmt: skip
    except FileNotFoundError:
        pass
    try:
        nli = asset("errors_nli")
        for s in nli["sets"].values():
            rows.append(["NLI (decomposable attention)", s["name"], f"{s['pairs']:,} pairs",
                         f"accuracy {s['accuracy'] * 100:.2f} %"])  # fmt: skip
    except FileNotFoundError:
        pass
    try:
        translators = asset("errors_translators")
        for name, m in translators["models"].items():
            rows.append([f"Translator ({name})", "Multi30k test 2016", f"{len(translators['sentences']):,} captions",
                         f"BLEU {m['bleu']:.2f} (beam 5)"])  # fmt: skip
    except FileNotFoundError:
        pass
    return pd.DataFrame(rows, columns=["model", "test set", "size", "score"])


def _total(errors: dict) -> int:
    return int(np.asarray(errors["confusion"]).sum())


# -- the tab's endpoint: your sentence through the best heads ------------------------------------------
@dataclass(frozen=True, kw_only=True)
class YourSentence:
    """words: your sentence split as UD EWT splits words; attention: float64[layers, heads, W, W],
    word-level (models.syntax_heads.word_attention)."""

    words: list[str]
    attention: np.ndarray
    run: RunInfo


def words_of(text: str, encoder, what: str = "The sentence") -> list[str]:
    words = encoder.sentence_words(clean_text(text, what))
    if len(words) < 2:
        raise ValueError(f"{what} needs at least two words: a head points from one word to another.")
    return words


def analyze(text: str, encoder) -> YourSentence:
    words = words_of(text, encoder)
    start = time.perf_counter()
    attention = encoder.word_attention(words, max_tokens=MAX_ATTENTION_TOKENS)
    return YourSentence(
        words=words, attention=attention, run=RunInfo(device=str(encoder.device), seconds=time.perf_counter() - start)
    )


def pointed(attention: np.ndarray, direction: str) -> np.ndarray:
    """[W, W] -> for each word, the word the head picks as its head: the one it attends to most
    (dependent → head) or the one that attends most to it (head → dependent)."""
    return attention.argmax(axis=-1) if direction == "dep_to_head" else attention.argmax(axis=-2)


def heads_table(r: YourSentence) -> pd.DataFrame:
    """One row per word; per head that is the best for a shown relation (one head may be the best
    for several), the word it picks as that word's head."""
    by_head: dict[tuple[int, int, str], list[str]] = {}
    for b in best_heads():
        if b.relation in SHOWN_RELATIONS:
            by_head.setdefault((b.layer, b.head, b.direction), []).append(b.relation)
    table = {"word": [f"{i}: {w}" for i, w in enumerate(r.words)]}
    layers, heads = r.attention.shape[:2]
    for (layer, head, direction), relations in by_head.items():
        if layer > layers or head > heads:  # the analysis is the bundled MiniLM's; another encoder lacks that head
            continue
        picks = pointed(r.attention[layer - 1, head - 1], direction)
        table[f"L{layer}H{head} ({', '.join(relations)})"] = [f"{j}: {r.words[j]}" for j in picks]
    return pd.DataFrame(table)


def figures(r: YourSentence) -> dict:
    shown = [b for b in best_heads() if b.relation in SHOWN_RELATIONS]
    return {
        "status": (
            f"{len(r.words)} words; every head's word-level attention computed in {r.run.seconds * 1000:.0f} ms on "
            f"{r.run.device}. Each column is one head: the best at finding that relation across EWT dev "
            f"({', '.join(f'{b.relation} {b.accuracy * 100:.0f} % vs {b.baseline * 100:.0f} % by position' for b in shown)}). "
            "It points every word somewhere; read the rows where the relation applies (a noun's det column, a verb's obj)."
        ),
        "scores": scores_table(),
        "your_heads": heads_table(r),
    }


def show(text: str, *, encoder) -> dict:
    """/corpus: your sentence -> the best syntax heads' pick for each word, and every model's corpus scores."""
    r = analyze(text, encoder)
    return {**figures(r), "result": r}
