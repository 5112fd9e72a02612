"""Lexical-swap pairs: more training pairs of the kind "the premise with one word swapped", made
from the training pairs' own labels (no word list from elsewhere).

Why: a model trained on tens of thousands of pairs reads "A man plays a guitar." / "A man plays a
violin." as entailment, because nearly every word aligns to itself (Breaking NLI measures exactly
this). The training data already says which one-word swaps contradict and which are entailed:
- a premise and its hypothesis that differ in one word: "A man is sleeping." / "A woman is
  sleeping." labelled contradiction gives man -> woman;
- two hypotheses of one premise that differ in one word, one entailed and one contradicted.
A swap seen as a contradiction more often than as anything else contradicts both ways; a swap
seen only as an entailment, by at least two annotators (man -> person), is kept in its direction.
The more general word of such an entailment (person, people) is never swapped as a contradiction:
hypotheses "A person ..." (entailed) and "A woman ..." (contradicted) of a premise about a man
say nothing about person and woman. Each training premise that holds such a word then gets new
hypotheses with one word swapped.

    pairs = swapped_pairs(train_pairs, count=8000, seed=1234)

What a one-word swap is (one_swap: one content word, FUNCTION_WORDS aside) lives in
training/nli_data.py, which also selects the sets trained without them and the premises that get none.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from .nli_data import Pair, lower_words, one_swap, swap_hosts, training_sets
from .nli_recipe import NLIRecipe

MAX_PREMISE_WORDS = 30  # a swap in one of four joined captions (MPE) or a long paragraph may not contradict it


@dataclass(frozen=True)
class Lexicon:
    """One-word swaps (lower-cased) the training labels support: word -> words it may become."""

    contradicting: dict[str, tuple[str, ...]]
    entailed: dict[str, tuple[str, ...]]

    def __len__(self) -> int:
        return sum(map(len, self.contradicting.values())) + sum(map(len, self.entailed.values()))


def mine(pairs: list[Pair]) -> Lexicon:
    """The swaps in `pairs` (see the module docstring), by the label they were seen with.

    A premise/hypothesis swap was written by an annotator as that label: it counts twice. A swap
    between two hypotheses of one premise may be no lexical relation at all ("... are asleep" /
    "... are outside"): it counts once, so one such sighting alone adds nothing.
    """
    seen: dict[tuple[str, str], Counter] = defaultdict(Counter)
    by_premise: dict[str, list[Pair]] = defaultdict(list)
    for p in pairs:
        by_premise[p.premise].append(p)
        swap = one_swap(p.premise, p.hypothesis)
        if swap:
            seen[swap][p.label] += 2
    for group in by_premise.values():
        entailed = [p.hypothesis for p in group if p.label == "entailment"]
        for other in (p for p in group if p.label != "entailment"):
            for hypothesis in entailed:
                swap = one_swap(hypothesis, other.hypothesis)
                if swap:
                    seen[swap][other.label] += 1
    contradicting: dict[str, set[str]] = defaultdict(set)
    entailed: dict[str, set[str]] = defaultdict(set)
    for (a, b), labels in seen.items():
        # both directions of a contradiction count; an entailment holds one way only
        both = labels + seen.get((b, a), Counter())
        if both["contradiction"] >= 2 and both["contradiction"] > both["entailment"] + both["neutral"]:
            contradicting[a].add(b)
            contradicting[b].add(a)
        elif labels["entailment"] >= 4 and not labels["contradiction"] and not labels["neutral"]:
            entailed[a].add(b)  # two annotators wrote it: "woman" -> "people" (once) is a number slip
    general = {w for targets in entailed.values() for w in targets}  # person, people
    contradicting = {
        w: others - general for w, others in contradicting.items() if w not in general and others - general
    }
    return Lexicon(
        {w: tuple(sorted(v)) for w, v in sorted(contradicting.items())},
        {w: tuple(sorted(v)) for w, v in sorted(entailed.items())},
    )


def swap_word(sentence: str, word: str, new: str) -> str | None:
    """`sentence` with the first whole-word `word` (any case) replaced by `new`, its capital kept."""
    match = re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", sentence, flags=re.IGNORECASE)
    if not match:
        return None
    found = match.group(0)
    new = new.capitalize() if found[0].isupper() else new
    before = sentence[: match.start()]
    article = re.search(r"(?<![\w-])(an?) $", before, flags=re.IGNORECASE)
    if article:  # "an orange vest" -> "a white vest"
        fixed = "an" if new[0].lower() in "aeiou" else "a"
        fixed = fixed.capitalize() if article.group(1)[0].isupper() else fixed
        before = before[: article.start(1)] + fixed + " "
    return before + new + sentence[match.end() :]


def swapped_pairs(
    pairs: list[Pair],
    count: int,
    seed: int,
    entailed_share: float = 0.25,
    lexicon: Lexicon | None = None,
    per_premise: int = 1,
) -> list[Pair]:
    """Up to `count` new pairs: a training premise and the same sentence with one word swapped by
    `lexicon` (default: mined from `pairs`), labelled contradiction (or, for `entailed_share` of them, entailment).

    At most `per_premise` pairs of each label per premise, each swapping a different word; a swap to a
    word already in the premise is skipped ("A man and a woman" -> "A woman and a woman" is no contradiction).
    """
    if count <= 0:
        return []
    lexicon = lexicon or mine(pairs)
    rng = random.Random(seed)
    premises = sorted({p.premise for p in pairs if len(lower_words(p.premise)) <= MAX_PREMISE_WORDS})
    rng.shuffle(premises)
    wanted = {"contradiction": count - round(count * entailed_share), "entailment": round(count * entailed_share)}
    made: list[Pair] = []
    for label, table in (("contradiction", lexicon.contradicting), ("entailment", lexicon.entailed)):
        made_here = 0
        for premise in premises:
            if made_here >= wanted[label]:
                break
            words = set(lower_words(premise))
            options = [(w, n) for w in sorted(words & set(table)) for n in table[w] if n not in words]
            if not options:
                continue
            for _ in range(per_premise):
                if not options or made_here >= wanted[label]:
                    break
                word, new = rng.choice(options)
                options = [(w, n) for w, n in options if w != word]  # the next swap changes another word
                hypothesis = swap_word(premise, word, new)
                if hypothesis and hypothesis != premise:
                    made.append(Pair(premise, hypothesis, label))
                    made_here += 1
    return made


def run_lexicon(recipe: NLIRecipe, sets: dict[str, list[Pair]], pairs: list[Pair]) -> Lexicon:
    """The lexicon a recipe mines from its training `sets` and `pairs`."""
    return mine(trusted(pairs, sets, set(recipe.drop_swapped_from)))


def run_swaps(recipe: NLIRecipe, sets: dict[str, list[Pair]], pairs: list[Pair]) -> list[Pair]:
    """A recipe's `lexical_swaps` (--swap_pairs, --swaps_per_premise, --no_swaps_from) from its training pairs."""
    hosts = swap_hosts(pairs, sets, set(recipe.no_swaps_from))
    return swapped_pairs(
        hosts, recipe.swap_pairs, recipe.seed, lexicon=run_lexicon(recipe, sets, pairs),
        per_premise=recipe.swaps_per_premise,
    )  # fmt: skip


def lexicon_of_run(recipe: NLIRecipe) -> Lexicon:
    """The lexicon a training run (config.json's "training", read back as its recipe) mined, from the pairs it trained on."""
    return run_lexicon(recipe, *training_sets(recipe))


def trusted(pairs: list[Pair], sets: dict[str, list[Pair]], dropped: set[str]) -> list[Pair]:
    """The pairs the lexicon is mined from: not those of a set whose swaps were dropped (its other
    pairs still say, by its convention, that man -> person is no entailment)."""
    distrusted = {p for name in dropped for p in sets.get(name, ())}
    return [p for p in pairs if p not in distrusted]


def known(lexicon: Lexicon, pair: Pair) -> bool:
    """Whether the pair's hypothesis is its premise with one swap the lexicon holds."""
    swap = one_swap(pair.premise, pair.hypothesis)
    return bool(swap) and any(swap[1] in table.get(swap[0], ()) for table in (lexicon.contradicting, lexicon.entailed))
