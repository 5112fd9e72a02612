"""Standard inputs of a given size, for `python -m bench` and the warm-up of each view.

A "token" is a unit of the model that reads the text, counted with the markers that model
adds: Penn-Treebank tokens for the tagger, BPE subwords with "</s>" for the translator,
word pieces with [CLS] / [SEP] for the encoder and the NLI model. Each input is the longest
prefix of a fixed passage of image captions (the translator's domain) with at most that many.
"""

from __future__ import annotations

from collections.abc import Callable

CAPTIONS = (
    "A man in a blue shirt is riding a bike down the street . Two young girls are playing with a ball "
    "on the beach while their mother reads a book under a large umbrella . A black dog jumps over a "
    "log in the snow and its owner watches from a red bench near the old wooden house . A group of "
    "people are standing in front of a small shop waiting for the bus to arrive in the rain ."
).split()
# The NLI hypothesis: another passage, so the alignment is not trivially diagonal.
HYPOTHESES = (
    "A person rides a bicycle outside and some children play at the beach near the water while an "
    "animal runs through the snow and people wait for a bus in bad weather on a busy city street "
    "next to the shop where a woman sells fresh bread and hot coffee to the workers going home early "
    "after a long day ."
).split()


def prefix(words: list[str], count: Callable[[str], int], tokens: int) -> str:
    """The longest prefix of `words` (joined by spaces) with at most `tokens` tokens."""
    best = None
    for n in range(1, len(words) + 1):
        text = " ".join(words[:n])
        if count(text) > tokens:
            return best
        best = text
    raise ValueError(f"the passage has fewer than {tokens} tokens: lengthen it")


def sample_text(count: Callable[[str], int], tokens: int) -> str:
    """A caption passage of at most `tokens` tokens as `count` counts them."""
    return prefix(CAPTIONS, count, tokens)


def sample_hypothesis(count: Callable[[str], int], tokens: int) -> str:
    return prefix(HYPOTHESES, count, tokens)


def encoder_pieces(models) -> Callable[[str], int]:
    """How many word pieces (with [CLS] and [SEP]) the bundled encoder reads in a text."""
    return lambda text: len(models["encoder"].encode(text)["input_ids"][0])


def sample_pair(tokens: int, models) -> dict:
    """The bench's input of a section that reads the Self-attention tab's two sentences."""
    count = encoder_pieces(models)
    return {"text": sample_text(count, tokens), "text_b": sample_hypothesis(count, tokens)}
