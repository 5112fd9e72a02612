"""Where each model is wrong, precomputed over a test set (issue 26's "Across a corpus").

    python -m training.corpus_errors     -> assets/analysis/errors_tagger.json

The tagger on UD English EWT test (gold tokenization, as its model card scores it): its accuracy,
the confusion matrix over the 17 UPOS tags (rows gold, columns predicted; it sums to the test
set's words) and every wrong word with its sentence, its gold and predicted tag and the model's
probability for the prediction (sortable by confidence). Derived from UD English EWT (CC BY-SA
4.0) and shared under it. The NLI models and the translators are still to come.
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

from .ud import REPO, read_ewt

OUT = REPO / "assets" / "analysis" / "errors_tagger.json"
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
    return {
        "model": "the bundled BiLSTM tagger (assets/tagger)",
        "data": f"UD English EWT v2.16 test split: {len(sentences)} sentences, {total} words (gold tokenization)",
        "licence": "derived from UD English EWT (CC BY-SA 4.0), shared under the same licence",
        "command": "python -m training.corpus_errors",
        "accuracy": round(float(np.trace(confusion)) / total, 5),
        "labels": tags,
        "confusion": confusion.tolist(),
        "sentences": texts,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # the same sums in the same order: the file rebuilds byte for byte
    start = time.perf_counter()
    with RUNTIME.cpu_only():
        data = tagger_errors(RUNTIME.get("tagger"), read_ewt("test"))
    write_json(data, Path(args.out), indent=None)
    print(f"tagger: accuracy {data['accuracy']:.5f}, {len(data['errors'])} errors, "
          f"{time.perf_counter() - start:.0f} s -> {args.out}")  # fmt: skip


if __name__ == "__main__":
    main()
