"""Where each translator is wrong: the three bundled translators on Multi30k test_2016_flickr,
beam 5 as assets/translator/EVALUATION.md scores them (python -m training.corpus_errors --only translators).

Per model the corpus sacreBLEU (13a, cased, detokenized; it equals EVALUATION.md's beam-5 column)
and, per sentence, its hypothesis and sentence BLEU (sacrebleu.sentence_bleu: the same settings
with effective n-gram order, so a short sentence is not zero for want of 4-grams).
"""

from __future__ import annotations

import time

import numpy as np
import sacrebleu

from .evaluate_translator import MODELS, beam_translations
from .multi30k import LICENSE_NOTE

SPLIT = "test_2016_flickr"
BEAM_SIZE = 5


def sentence_metric() -> sacrebleu.BLEU:
    """The BLEU that sacrebleu.sentence_bleu computes, as an object that can give its signature."""
    return sacrebleu.BLEU(effective_order=True)


def translator_errors(translators: dict, english: list[str], german: list[str], beam_size: int = BEAM_SIZE) -> dict:
    """The asset's content for {variant: translator} on these aligned sentences."""
    corpus, sentence = sacrebleu.BLEU(), sentence_metric()
    models = {}
    for variant, tr in translators.items():
        start = time.perf_counter()
        hypotheses = beam_translations(tr, english, beam_size, desc=variant)
        scores = [round(sentence.sentence_score(h, [r]).score, 2) for h, r in zip(hypotheses, german, strict=True)]
        models[variant] = {
            "name": MODELS[variant],
            "bleu": round(corpus.corpus_score(hypotheses, [german]).score, 2),
            "signature": str(corpus.get_signature()),
            "sentence_signature": str(sentence.get_signature()),
            "sentence_bleu_median": round(float(np.median(scores)), 2),
            "sentences_with_bleu_0": sum(s == 0 for s in scores),
            "sentence_bleu": scores,
            "hypotheses": hypotheses,
        }
        print(f"  {variant}: BLEU {models[variant]['bleu']:.2f}, median sentence BLEU "
              f"{models[variant]['sentence_bleu_median']}, {time.perf_counter() - start:.0f} s")  # fmt: skip
    return {
        "model": "the three bundled translators (assets/translator: no_attention, attention, transformer)",
        "data": f"Multi30k task 1 {SPLIT} (English -> German): {len(english)} sentence pairs, raw text",
        "licence": f"{LICENSE_NOTE} The sources, references and translations here are shared on the same terms.",
        "command": "python -m training.corpus_errors --only translators",
        "decoding": f"beam {beam_size}",
        "sentences": [{"id": i, "source": e, "reference": g} for i, (e, g) in enumerate(zip(english, german))],
        "models": models,
    }
