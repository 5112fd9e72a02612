"""The standard inputs: sentences of 20 and 60 tokens, and a 16-sentence batch.

A "token" is a unit of the model that reads the text, counted with the markers that model
adds: Penn-Treebank tokens for the tagger, BPE subwords with "</s>" for the translator,
word pieces with [CLS] / [SEP] for the encoder and the NLI model. Each input is the longest
prefix of a fixed passage of image captions (the translator's domain) that has at most
that many tokens; the counts it really has are reported with the figures.
"""
from __future__ import annotations

from collections.abc import Callable

SIZES = (20, 60)
CAPTIONS = ("A man in a blue shirt is riding a bike down the street . Two young girls are playing with a ball "
            "on the beach while their mother reads a book under a large umbrella . A black dog jumps over a "
            "log in the snow and its owner watches from a red bench near the old wooden house . A group of "
            "people are standing in front of a small shop waiting for the bus to arrive in the rain .").split()
# The NLI hypothesis: another passage, so the alignment is not trivially diagonal.
HYPOTHESES = ("A person rides a bicycle outside and some children play at the beach near the water while an "
              "animal runs through the snow and people wait for a bus in bad weather on a busy city street "
              "next to the shop where a woman sells fresh bread and hot coffee to the workers going home early "
              "after a long day .").split()


def prefix(words: list[str], count: Callable[[str], int], tokens: int) -> tuple[str, int]:
    """The longest prefix of `words` (joined by spaces) with at most `tokens` tokens, and its count."""
    best = None
    for n in range(1, len(words) + 1):
        text = " ".join(words[:n])
        c = count(text)
        if c > tokens:
            return best
        best = (text, c)
    raise ValueError(f"the passage has only {best[1]} tokens, fewer than {tokens}: lengthen it")


def batch_lines() -> list[str]:
    """16 lines: the 12 UD EWT dev sentences of the Batch view's example, then the first 4 again
    (every line keeps its gold tags, so the view also computes the masked loss)."""
    from explorer import batching

    lines = list(batching.examples())
    return (lines + lines)[:16]


def standard_inputs(tagger, translator, encoder, nli) -> dict:
    """{view: {size: (args, tokens)}} for the five views; args are what the view's analyze takes."""
    def source_tokens(text):
        return len(translator.encode_source(text)[0])

    def pieces(text):
        return len(encoder.encode(text)["input_ids"][0])

    lines = batch_lines()
    inputs = {"batch": {len(lines): (("\n".join(lines),), len(lines))},
              "tags": {}, "translation": {}, "self_attention": {}, "nli": {}}
    for size in SIZES:
        text, n = prefix(CAPTIONS, lambda t: len(tagger.tokenize(t)), size)
        inputs["tags"][size] = ((text,), n)
        text, n = prefix(CAPTIONS, source_tokens, size)
        inputs["translation"][size] = ((text,), n)
        text, n = prefix(CAPTIONS, pieces, size)
        inputs["self_attention"][size] = ((text,), n)
        premise, n = prefix(CAPTIONS, nli.count_pieces, size)
        hypothesis, _ = prefix(HYPOTHESES, nli.count_pieces, size)
        inputs["nli"][size] = ((premise, hypothesis), n)
    return inputs
