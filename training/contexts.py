"""One word in many contexts, precomputed: the corpus side of issue 26's third section.

    python -m training.contexts     -> assets/analysis/contexts.json

From UD English EWT train, the words the treebank tags both NOUN and VERB at least MIN_PER_TAG
times each ("work", "call", "help", "run", "play", ...), with up to PER_TAG sentences per tag
(the first in corpus order where the word's first occurrence carries that tag, at most MAX_WORDS
words long): the app's corpus mode draws each such word's occurrences from here, coloured by gold
part of speech. For each word, the bundled MiniLM's self-similarity by layer over those sentences
(models/contexts.py, Ethayarajh 2019), and once for all, the anisotropy baseline: the mean cosine
of random word pairs of EWT dev sentences at each layer. The app reads these and never recomputes
them per request. Derived from UD English EWT (CC BY-SA 4.0) and shared under it; the same data
and model give the same file, byte for byte (CPU, one thread, rounded to 4 decimals).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from models.contexts import anisotropy
from models.runtime import RUNTIME
from models.text import write_json

from .ud import REPO, TaggedSentence, read_ewt

OUT = REPO / "assets" / "analysis" / "contexts.json"
TAGS = ("NOUN", "VERB")
MIN_PER_TAG = 6
PER_TAG = 12
MAX_WORDS = 30
BASELINE_SENTENCES = 400  # EWT dev sentences the anisotropy baseline draws its words from
BASELINE_PAIRS = 2000
BASELINE_CHUNK = 100


def first_tags(sentences: list[TaggedSentence]) -> dict[str, list[tuple[int, str]]]:
    """word (lower case) -> (sentence index, gold UPOS of its first occurrence) for each sentence
    of at most MAX_WORDS words that holds it (the first occurrence: what models.contexts reads)."""
    found: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for s, sentence in enumerate(sentences):
        if len(sentence.words) > MAX_WORDS:
            continue
        seen = set()
        for word, tag in zip(sentence.words, sentence.upos, strict=True):
            lower = word.lower()
            if lower not in seen and lower.isalpha():
                seen.add(lower)
                found[lower].append((s, tag))
    return found


def occurrences(sentences: list[TaggedSentence]) -> dict[str, list[dict]]:
    """The chosen words, most balanced first, each with its sentences and gold tags."""
    found = first_tags(sentences)
    counts = {w: Counter(tag for _, tag in seen) for w, seen in found.items()}
    words = [w for w, c in counts.items() if all(c[t] >= MIN_PER_TAG for t in TAGS)]
    words.sort(key=lambda w: (-min(counts[w][t] for t in TAGS), w))
    out = {}
    for word in words:
        kept = []
        for tag in TAGS:
            kept += [s for s, t in found[word] if t == tag][:PER_TAG]
        kept.sort()
        tag_of = dict(found[word])
        out[word] = [{"text": " ".join(sentences[s].words), "upos": tag_of[s]} for s in kept]
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the same sums in the same order: the file rebuilds byte for byte
    start = time.perf_counter()
    words = occurrences(read_ewt("train"))
    dev = [" ".join(s.words) for s in read_ewt("dev") if 4 <= len(s.words) <= MAX_WORDS][:BASELINE_SENTENCES]
    with RUNTIME.cpu_only():
        encoder = RUNTIME.get("encoder")
        chunks = range(0, len(dev), BASELINE_CHUNK)  # a padded batch of BASELINE_CHUNK sentences at a time
        pairs = BASELINE_PAIRS // len(chunks)
        baseline = np.mean(
            [anisotropy(encoder, dev[i : i + BASELINE_CHUNK], pairs=pairs, seed=i) for i in chunks], axis=0
        )
        similarity = {}
        for word, found in tqdm(words.items(), desc="words", unit="word"):
            similarity[word] = encoder.word_in_contexts(word, [f["text"] for f in found]).self_similarity
    write_json(
        {
            "model": "all-MiniLM-L6-v2 (bundled)",
            "data": f"UD English EWT v2.16: train sentences of at most {MAX_WORDS} words for the words tagged both "
            f"NOUN and VERB at least {MIN_PER_TAG} times each (up to {PER_TAG} sentences per tag); the baseline "
            f"from {len(dev)} dev sentences",
            "licence": "derived from UD English EWT (CC BY-SA 4.0), shared under the same licence",
            "command": "python -m training.contexts",
            "procedure": "a word's vector: the mean of its word pieces' hidden states at each layer (0 = embeddings), "
            "its first occurrence in each sentence; self-similarity: mean pairwise cosine (Ethayarajh 2019); "
            f"anisotropy: mean cosine of {BASELINE_PAIRS} random pairs of different words",
            "anisotropy": np.round(baseline.astype(float), 4).tolist(),
            "words": {
                word: {"self_similarity": np.round(similarity[word].astype(float), 4).tolist(), "sentences": found}
                for word, found in words.items()
            },
        },
        Path(args.out),
        indent=None,
    )
    print(f"{len(words)} words, baseline {np.round(baseline.astype(float), 3).tolist()}, {time.perf_counter() - start:.0f} s "
          f"-> {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
