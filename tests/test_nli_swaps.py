"""Lexical-swap training pairs (training/nli_swaps.py): mined from the training labels only."""

import json

from training.nli_data import Pair, one_swap, swap_hosts, without_swaps
from training.nli_swaps import known, mine, swap_word, swapped_pairs, trusted

C, E, N = "contradiction", "entailment", "neutral"


def test_one_swap_finds_a_single_content_word():
    assert one_swap("A man is sleeping.", "A woman is sleeping.") == ("man", "woman")
    assert one_swap("A man is sleeping.", "No man is sleeping.") is None  # negation: not a swapped thing
    assert one_swap("A man is sleeping.", "A woman is not sleeping.") is None  # two differences
    assert one_swap("A man is sleeping.", "A man sleeps.") is None


def test_mine_keeps_swaps_the_labels_support():
    pairs = [
        Pair("A man is sleeping.", "A woman is sleeping.", C),  # an annotator wrote it: enough alone
        Pair("The dog runs on grass.", "The dog runs on sand.", N),  # neutral: no lexicon entry
        Pair("A man cooks.", "A person cooks.", E),
        Pair("A man sings.", "A person sings.", E),  # an entailment needs two sightings
        Pair("A boy eats.", "A kid eats.", E),  # one sighting: left out
        # two hypotheses of one premise, one entailed, one contradicted: counts once, so alone too weak
        Pair("Kids play in a park.", "Kids are outside.", E),
        Pair("Kids play in a park.", "Kids are asleep.", C),
    ]
    lexicon = mine(pairs)
    assert lexicon.contradicting == {"man": ("woman",), "woman": ("man",)}  # both ways
    assert lexicon.entailed == {"man": ("person",)}  # one way: a person need not be a man
    assert "outside" not in lexicon.contradicting and "boy" not in lexicon.entailed


def test_a_more_general_word_is_never_a_contradiction_swap():
    """Hypotheses "A person ..." (entailed) and "A woman ..." (contradicted) of a premise about a man
    contrast with the scene, not with each other: person is the general word (man -> person is
    entailed), so person / woman is no contradiction, however often the pair is seen."""
    pairs = [Pair("A man cooks.", "A person cooks.", E), Pair("A man sings.", "A person sings.", E)]
    for verb in ("runs", "eats", "reads"):  # three premises, each with both hypotheses
        pairs += [
            Pair(f"A man {verb} fast.", f"A person {verb}.", E),
            Pair(f"A man {verb} fast.", f"A woman {verb}.", C),
        ]
    pairs += [Pair("A woman naps.", "A man naps.", C)]
    lexicon = mine(pairs)
    assert lexicon.entailed == {"man": ("person",)}
    assert lexicon.contradicting == {"man": ("woman",), "woman": ("man",)}  # not person
    made = swapped_pairs(pairs, count=20, seed=0, lexicon=lexicon, per_premise=2)
    assert made and not any(p.label == C and "person" in p.hypothesis.lower() for p in made)


def test_swaps_per_premise_change_different_words():
    base = [Pair("A man in a red hat sits.", "A woman in a red hat sits.", C)]
    base += [Pair("A red car.", "A green car.", C), Pair("A man sits.", "A man stands.", C)]
    lexicon = mine(base)
    one = swapped_pairs(base, count=10, seed=0, lexicon=lexicon)
    two = swapped_pairs(base, count=10, seed=0, lexicon=lexicon, per_premise=2)
    premise = "A man in a red hat sits."
    assert sum(p.premise == premise for p in one) == 1
    made = [p.hypothesis for p in two if p.premise == premise]
    assert len(made) == 2 and len(set(made)) == 2
    assert all(one_swap(premise, h) for h in made)
    assert set(one) <= set(two)  # the first swap of each premise is the same as with one per premise


def test_swap_word_keeps_case_articles_and_whole_words():
    assert swap_word("Man in an orange vest.", "man", "woman") == "Woman in an orange vest."
    assert swap_word("A man in an orange vest.", "orange", "white") == "A man in a white vest."
    assert swap_word("A woman and a man.", "man", "boy") == "A woman and a boy."  # not inside "woman"
    assert swap_word("An old man.", "old", "new") == "A new man."
    assert swap_word("A cat.", "dog", "cat") is None


def test_swapped_pairs_come_from_the_training_premises_only():
    base = [
        Pair("A man is sleeping.", "A woman is sleeping.", C),
        Pair("A man plays a red guitar.", "A man plays a green guitar.", C),
        Pair("A man cooks.", "A person cooks.", E),
        Pair("A man sings.", "A person sings.", E),
        Pair("A man and a woman walk.", "People walk.", E),
        Pair("Two women read in a red room.", "Two women read.", E),
    ]
    made = swapped_pairs(base, count=20, seed=0, entailed_share=0.25)
    premises = {p.premise for p in base}
    assert made and {p.premise for p in made} <= premises
    assert all(p.hypothesis != p.premise and one_swap(p.premise, p.hypothesis) for p in made)
    # "A man and a woman walk." has man and woman: swapping one to the other is no contradiction
    assert not any(p.premise == "A man and a woman walk." and p.label == C for p in made)
    assert Pair("Two women read in a red room.", "Two women read in a green room.", C) in made
    assert sum(p.label == C for p in made) <= 15 and sum(p.label == E for p in made) <= 5
    assert swapped_pairs(base, count=20, seed=0) == made  # the same run makes the same pairs
    assert swapped_pairs(base, count=0, seed=0) == []
    lexicon = mine(base)
    assert known(lexicon, Pair("A red car.", "A green car.", C)) and not known(lexicon, Pair("A car.", "A bus.", C))


def test_a_set_whose_swaps_are_dropped_neither_trains_on_them_nor_feeds_the_lexicon():
    """SICK's convention: "a man" / "a woman" may be two scenes (neutral). --drop_swapped_from drops
    such pairs from it, and its other pairs do not veto an entailment the other sets agree on."""
    snli = [
        Pair("A man is sleeping.", "A woman is sleeping.", C),
        Pair("A man cooks.", "A person cooks.", E),
        Pair("A man sings.", "A person sings.", E),
    ]
    sick = [
        Pair("A man is playing a flute.", "A woman is playing a flute.", N),
        Pair("A man is riding a horse.", "A person is riding a horse.", E),
        Pair("A man is riding a horse.", "A man is riding a horse outdoors.", N),
        Pair("A man and a child play.", "A man plays.", E),
        Pair("A man and a child play.", "A person plays.", N),  # two hypotheses: man -> person seen as neutral
    ]
    kept = without_swaps(sick)
    assert kept == [sick[2], sick[3], sick[4]]
    assert mine(snli + kept).entailed == {}  # one neutral sighting vetoes the entailment
    sets = {"snli": snli, "sick": kept}
    lexicon = mine(trusted(snli + kept, sets, {"sick"}))
    assert lexicon.contradicting == {"man": ("woman",), "woman": ("man",)} and lexicon.entailed == {"man": ("person",)}


def test_no_swaps_from_keeps_a_sets_premises_unswapped():
    """--no_swaps_from sick: SICK still trains, but no swapped hypothesis is written for its premises."""
    snli = [
        Pair("A man plays a red guitar.", "A man plays a green guitar.", C),
        Pair("A man sings.", "A woman sings.", C),
    ]
    sick = [Pair("A man is cutting a red onion.", "Nobody is cutting an onion.", C)]
    sets = {"snli": snli, "sick": sick}
    hosts = swap_hosts(snli + sick, sets, {"sick"})
    assert hosts == snli
    made = swapped_pairs(hosts, count=10, seed=0, lexicon=mine(snli + sick))
    assert made and not any(p.premise == sick[0].premise for p in made)
    assert any(p.premise == sick[0].premise for p in swapped_pairs(snli + sick, 10, 0, lexicon=mine(snli + sick)))
    assert swap_hosts(snli + sick, sets, set()) == snli + sick
    try:
        swap_hosts(snli, sets, {"sikc"})
    except SystemExit as e:
        assert "sikc" in str(e)  # a typo is a mistake, not a silent no-op
    else:
        raise AssertionError("an unknown set name was accepted")


def test_training_cli_adds_swaps_and_the_card_names_them(tmp_path):
    import random

    from training.train_nli import main

    rng = random.Random(0)
    colors, things = ["red", "blue", "green", "black"], ["car", "hat", "ball", "cup", "door", "kite"]
    rows = []
    for _ in range(120):
        color, thing = rng.choice(colors), rng.choice(things)
        other = rng.choice([c for c in colors if c != color])
        label = rng.choice([C, E])
        rows.append(f"{label}\tA {color} {thing} is here.\tA {other if label == C else color} {thing} is here.")
    header = "gold_label\tsentence1\tsentence2\n"
    (tmp_path / "train.tsv").write_text(header + "\n".join(rows[:80]) + "\n", encoding="utf-8")
    (tmp_path / "other.tsv").write_text(header + "\n".join(rows[80:100]) + "\n", encoding="utf-8")
    (tmp_path / "valid.tsv").write_text(header + "\n".join(rows[100:]) + "\n", encoding="utf-8")
    out = tmp_path / "m"
    other = str(tmp_path / "other.tsv")
    main(["--train", str(tmp_path / "train.tsv") + "," + other, "--valid", str(tmp_path / "valid.tsv"), "--test", "",
          "--epochs", "1", "--hidden", "16", "--min_accuracy", "0", "--cache", str(tmp_path / "cache"),
          "--swap_pairs", "40", "--swaps_per_premise", "2", "--no_swaps_from", other, "--out", str(out)])  # fmt: skip
    info = json.loads((out / "config.json").read_text())
    made = info["train_sets"]["lexical_swaps"]
    assert 0 < made <= 40 and info["scores"]["train_pairs"] == 100 + made
    card = (out / "MODEL_CARD.md").read_text()
    assert f"`lexical_swaps` ({made:,} pairs)" in card and "No outside word list" in card
    assert f"except {other} (`--no_swaps_from`), up to 2 per premise and label" in card
