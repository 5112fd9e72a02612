"""Heads that track syntax, precomputed: Clark et al. 2019's procedure for the bundled MiniLM on
UD English EWT dev (models/syntax_heads.py).

    python -m training.syntax_heads     -> assets/analysis/syntax_heads.json

Each dev sentence's words (the treebank's own tokenization, multiword tokens split as UD does)
go through the tokenizer as pre-split words; every head's attention becomes word-level attention
and is scored against the gold arcs. Sentences over MAX_PIECES word pieces are skipped (counted
in the asset). A few dev sentences with their gold arcs are kept for the app to draw a head on. The output is derived from UD English EWT (CC BY-SA 4.0) and shared under it.
The same data and model give the same file, byte for byte (CPU, rounded to 4 decimals).
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

import conllu
import torch
from tqdm import tqdm

from models.runtime import RUNTIME
from models.syntax_heads import Sentence, base_relation, score, summary
from models.text import write_json

from .ud import REPO, ewt_path

OUT = REPO / "assets" / "analysis" / "syntax_heads.json"
MAX_PIECES = 128
EXAMPLES = 12  # corpus sentences the app draws a head's attention on, with their gold arcs
EXAMPLE_WORDS = (8, 16)


def examples(trees, count: int = EXAMPLES) -> list[dict]:
    """The first `count` sentences of EXAMPLE_WORDS words that hold a det, an nsubj and an obj:
    their words, gold heads (-1: the root) and relations."""
    low, high = EXAMPLE_WORDS
    picked = []
    for words, tree in trees:
        if low <= len(words) <= high and {"det", "nsubj", "obj"} <= set(tree.relations):
            picked.append({"words": words, "heads": list(tree.heads), "relations": list(tree.relations)})
        if len(picked) == count:
            break
    return picked


def read_trees(split: str) -> list[tuple[list[str], Sentence]]:
    """(words, gold tree) of every sentence: syntactic words only (no multiword-token or empty-node lines)."""
    with gzip.open(ewt_path(split), "rt", encoding="utf-8") as f:
        parsed = conllu.parse(f.read())
    trees = []
    for sent in parsed:
        words = [tok for tok in sent if isinstance(tok["id"], int)]
        position = {tok["id"]: i for i, tok in enumerate(words)}
        heads = tuple(position[tok["head"]] if tok["head"] else -1 for tok in words)
        trees.append(
            ([tok["form"] for tok in words], Sentence(heads, tuple(base_relation(t["deprel"]) for t in words)))
        )
    return trees


def word_attentions(encoder, trees, max_pieces: int = MAX_PIECES):
    """For each sentence within max_pieces: [layers, heads, W, W] word-level attention, and its tree."""
    kept, skipped = [], 0
    for words, tree in tqdm(trees, desc="EWT dev", unit="sentence"):
        try:
            kept.append((encoder.word_attention(words, max_tokens=max_pieces), tree))
        except ValueError:  # over max_pieces
            skipped += 1
    return kept, skipped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the same sums in the same order: the file rebuilds byte for byte
    start = time.perf_counter()
    with RUNTIME.cpu_only():
        encoder = RUNTIME.get("encoder")
        trees = read_trees(args.split)
        kept, skipped = word_attentions(encoder, trees)
    relations = summary(score([a for a, _ in kept], [t for _, t in kept]))
    write_json(
        {
            "model": "all-MiniLM-L6-v2 (bundled)",
            "data": f"UD English EWT v2.16, {args.split} split: {len(kept)} sentences ({skipped} over {MAX_PIECES} "
            "word pieces skipped)",
            "licence": "derived from UD English EWT (CC BY-SA 4.0), shared under the same licence",
            "procedure": "Clark et al. 2019: word-level attention (keys summed, queries averaged over a word's "
            "pieces), [CLS]/[SEP] out, self-attention 0; accuracy of the most-attended word (dep_to_head) and of "
            "the word attending most (head_to_dep) as the gold head; baseline: the best offset in -3..+2",
            "command": "python -m training.syntax_heads",
            "layers": encoder.layers,
            "heads": encoder.heads,
            "relations": relations,
            "examples": examples(trees),
        },
        Path(args.out),
    )
    print(f"{len(kept)} sentences, {len(relations)} relations in {time.perf_counter() - start:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
