"""Where each model is wrong, precomputed over its test sets (issue 26's "Across a corpus").

    python -m training.corpus_errors                       # every asset below
    python -m training.corpus_errors --only tagger         # -> assets/analysis/errors_tagger.json
    python -m training.corpus_errors --only nli            # -> assets/analysis/errors_nli.json
    python -m training.corpus_errors --only translators    # -> assets/analysis/errors_translators.json

The tagger on UD English EWT test (gold tokenization, as its model card scores it): its accuracy,
the confusion matrix over the 17 UPOS tags (rows gold, columns predicted; it sums to the test
set's words) and every wrong word with its sentence, its gold and predicted tag and the model's
probability for the prediction (sortable by confidence). Derived from UD English EWT (CC BY-SA
4.0) and shared under it.

The NLI model on SNLI test, MultiNLI dev mismatched and Breaking NLI (training/corpus_errors_nli.py):
accuracy, 3 x 3 confusion and every wrong pair with its confidence; Breaking NLI by swapped word
(its category column is not in our copy). SNLI and Breaking NLI texts ship under CC BY-SA 4.0;
MultiNLI's terms are unverified here, so its errors are pair indices without text.

The three translators on Multi30k test_2016_flickr, beam 5 (training/corpus_errors_translators.py):
corpus sacreBLEU as assets/translator/EVALUATION.md, each sentence's hypothesis and sentence BLEU.
Multi30k is Flickr30K-derived, for non-commercial research and educational use; shared on its terms.

Each file rebuilds byte for byte: one thread, fixed order, rounded floats. The data are read from
the shared data folder (../shared/data, or EXPLORER_DATA).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from models.runtime import RUNTIME
from models.text import write_json

from .corpus_errors_nli import nli_errors
from .corpus_errors_translators import SPLIT, translator_errors
from .evaluate_translator import MODELS
from .multi30k import read_split
from .ud import REPO, read_ewt

OUT_DIR = REPO / "assets" / "analysis"
BATCH = 64


def tagger_errors(tagger, sentences) -> dict:
    """The asset's content for the tagger on these TaggedSentences."""
    tags = list(tagger.tagset)
    index = {t: i for i, t in enumerate(tags)}
    confusion = np.zeros((len(tags), len(tags)), dtype=np.int64)
    errors, texts = [], []
    for start in tqdm(range(0, len(sentences), BATCH), desc="EWT test", unit="batch"):
        chunk = sentences[start : start + BATCH]
        with torch.inference_mode():
            results = tagger.tag([s.words for s in chunk])
        for offset, (sentence, result) in enumerate(zip(chunk, results, strict=True)):
            wrong_here = False
            for i, (gold, predicted) in enumerate(zip(sentence.upos, result.tags, strict=True)):
                confusion[index[gold], index[predicted]] += 1
                if gold != predicted:
                    if not wrong_here:
                        texts.append({"id": start + offset, "words": sentence.words})
                        wrong_here = True
                    errors.append({"sentence": start + offset, "token": i, "word": sentence.words[i], "gold": gold,
                                   "predicted": predicted,
                                   "confidence": round(float(result.probs[i, index[predicted]]), 4)})  # fmt: skip
    total = int(confusion.sum())
    print(f"  EWT test: accuracy {np.trace(confusion) / total:.5f} of {total} words, {len(errors)} errors")
    return {
        "model": "the bundled BiLSTM tagger (assets/tagger)",
        "data": f"UD English EWT v2.16 test split: {len(sentences)} sentences, {total} words (gold tokenization)",
        "licence": "derived from UD English EWT (CC BY-SA 4.0), shared under the same licence",
        "command": "python -m training.corpus_errors --only tagger",
        "accuracy": round(float(np.trace(confusion)) / total, 5),
        "labels": tags,
        "confusion": confusion.tolist(),
        "sentences": texts,
        "errors": errors,
    }


# part -> (file, what it builds); each runs on the CPU copies of the bundled models
PARTS = {
    "tagger": ("errors_tagger.json", lambda: tagger_errors(RUNTIME.get("tagger"), read_ewt("test"))),
    "nli": ("errors_nli.json", lambda: nli_errors(RUNTIME.get("nli"))),
    "translators": (
        "errors_translators.json",
        lambda: translator_errors({v: RUNTIME.get(f"translator/{v}") for v in MODELS}, *read_split(SPLIT)),
    ),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=list(PARTS), help="rebuild this asset alone")
    parser.add_argument("--out_dir", default=str(OUT_DIR))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the same sums in the same order: the files rebuild byte for byte
    for part, (name, build) in PARTS.items():
        if args.only and part != args.only:
            continue
        start = time.perf_counter()
        print(f"{part}:")
        with RUNTIME.cpu_only():
            data = build()
        path = Path(args.out_dir) / name
        write_json(data, path, indent=None)
        print(f"{part}: {time.perf_counter() - start:.0f} s -> {path} ({path.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
