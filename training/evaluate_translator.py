"""Score the three bundled translators (GRU without attention, GRU + attention, Transformer) on Multi30k test_2016_flickr with sacreBLEU, overall and by source length.

    python -m training.evaluate_translator                 # writes assets/translator/{bleu_by_length.json,EVALUATION.md}
    python -m training.evaluate_translator --limit 200     # a quick look (writes nothing)
    python -m training.evaluate_translator --latency_only  # CPU time of one 15-word translation

Detokenized, cased hypotheses against the raw references, sacreBLEU's standard settings
(13a tokenization, exponential smoothing). Bucketing by source length is the experiment of
Bahdanau et al. 2015, figure 2: without attention, BLEU falls as sentences grow, because one
fixed vector C has to carry the whole source.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import sacrebleu
import torch
from tqdm import tqdm

from models.text import write_json
from models.translator import ASSETS, load_translator

from .multi30k import LICENSE_NOTE, read_split
from .train_translator import bleu

# In the order a course meets them; the rows of the app's BLEU-by-length table.
MODELS = {
    "no_attention": "GRU, fixed context C (`no_attention`)",
    "attention": "GRU + additive attention (`attention`)",
    "transformer": "Transformer encoder-decoder (`transformer`)",
}
ANCHORS = {"no_attention": "20.6", "attention": "28.3", "transformer": "36.5 (de→en); 41.0 (Wu et al. 2021)"}
SENTENCE_15_WORDS = "A young man in a red jacket rides his old bicycle down a busy street."


def latency_ms(tr, beam_size: int, repeats: int = 20) -> float:
    """Median wall time of translating SENTENCE_15_WORDS (text in, text + attention out)."""
    tr.translate(SENTENCE_15_WORDS, beam_size=beam_size)  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        tr.translate(SENTENCE_15_WORDS, beam_size=beam_size)
        times.append(time.perf_counter() - start)
    return round(float(np.median(times)) * 1000, 1)


def beam_translations(tr, english: list[str], beam_size: int, desc: str = "") -> list[str]:
    """The detokenized beam-search translations of `english`, one sentence at a time (beam search
    decodes one source; training.train_translator.bleu batches only greedy search)."""
    return [
        tr.translate(s, beam_size=beam_size).text
        for s in tqdm(english, desc=f"{desc} beam {beam_size}".strip(), mininterval=20)
    ]


# Source length in English words (whitespace-separated), chosen so every bucket has 50+ sentences.
BUCKETS = [(1, 8), (9, 11), (12, 14), (15, 18), (19, 99)]


def bucket_label(low: int, high: int) -> str:
    return f"{low}–{high}" if high < 99 else f"{low}+"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--beam_size", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="score only the first N test pairs and write nothing")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--latency_only", action="store_true", help="only time one 15-word translation per model")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    assert len(SENTENCE_15_WORDS.split()) == 15
    latency = {}
    for variant in MODELS:
        tr = load_translator(variant, device=torch.device("cpu"))
        latency[variant] = {f"beam_{k}_ms": latency_ms(tr, k) for k in (1, 5)}
        print(f"{variant}: one 15-word sentence, median of 20 on {args.threads} CPU threads: {latency[variant]}")
    if args.latency_only:
        return

    english, german = read_split("test_2016_flickr")
    if args.limit:
        english, german = english[: args.limit], german[: args.limit]
    lengths = np.array([len(s.split()) for s in english])
    metric = sacrebleu.BLEU()
    overall, by_length, seconds, examples = {}, {}, {}, {}
    for variant in MODELS:
        tr = load_translator(variant, device=torch.device("cpu"))
        start = time.time()
        greedy, hyps = bleu(tr, english, german)  # batched greedy search
        if args.beam_size > 1:
            hyps = beam_translations(tr, english, args.beam_size, desc=variant)
        seconds[variant] = round(time.time() - start, 1)
        beam = metric.corpus_score(hyps, [german]).score
        overall[variant] = {"greedy": round(greedy, 2), f"beam_{args.beam_size}": round(beam, 2)}
        by_length[variant] = []
        for low, high in BUCKETS:
            idx = [i for i, n in enumerate(lengths) if low <= n <= high]
            score = metric.corpus_score([hyps[i] for i in idx], [[german[i] for i in idx]]).score if idx else None
            by_length[variant].append(None if score is None else round(score, 2))
        examples[variant] = hyps[:5]
        print(
            f"{variant}: greedy {greedy:.2f}, beam {args.beam_size} {beam:.2f}; by length {by_length[variant]} ({seconds[variant]} s)"
        )

    signature = str(metric.get_signature())
    buckets = [
        {
            "label": bucket_label(lo, hi),
            "min_words": lo,
            "max_words": hi,
            "count": int(((lengths >= lo) & (lengths <= hi)).sum()),
        }
        for lo, hi in BUCKETS
    ]
    if args.limit:
        print("(--limit: nothing written)")
        return
    result = {
        "data": "Multi30k test_2016_flickr, English -> German, 1,000 pairs",
        "license": LICENSE_NOTE,
        "metric": signature,
        "decoding": "greedy" if args.beam_size == 1 else f"beam {args.beam_size}",
        "length": "English source words (whitespace-separated)",
        "buckets": buckets,
        "bleu": by_length,
        "overall": overall,
        "latency_15_words": latency,
        "command": "python -m training.evaluate_translator",
    }
    write_json(result, ASSETS / "bleu_by_length.json")
    write_report(result, english, german, examples, seconds, args.beam_size)
    print(f"wrote {ASSETS / 'bleu_by_length.json'} and {ASSETS / 'EVALUATION.md'}")


def write_report(
    result: dict, english: list[str], german: list[str], examples: dict, seconds: dict, beam_size: int
) -> None:
    o, names = result["overall"], list(result["overall"])
    models = "\n".join(
        f"| {MODELS[v]} | {o[v]['greedy']:.2f} | {o[v][f'beam_{beam_size}']:.2f} | {ANCHORS[v]} |" for v in names
    )
    rows = "\n".join(
        f"| {b['label']} | {b['count']} | " + " | ".join(f"{result['bleu'][v][i]:.2f}" for v in names) + " |"
        for i, b in enumerate(result["buckets"])
    )
    samples = "\n".join(
        f"| {english[i]} | {german[i]} | " + " | ".join(examples[v][i] for v in names) + " |"
        for i in range(len(examples[names[0]]))
    )
    latency = "; ".join(
        f"{v} {result['latency_15_words'][v]['beam_1_ms']} ms greedy, {result['latency_15_words'][v]['beam_5_ms']} ms beam 5"
        for v in names
    )
    took = ", ".join(f"{v} {seconds[v]} s" for v in names)
    header = " | ".join(names)
    report = f"""# Translator evaluation: Multi30k test_2016_flickr (English → German)

sacreBLEU on detokenized, cased output against the raw references: `{result["metric"]}`.

| model | greedy | beam {beam_size} | anchor (tutorials and papers, lower-cased and/or tokenized BLEU) |
|---|---|---|---|
{models}

## BLEU by source length (beam {beam_size})
Bahdanau et al. 2015, figure 2, on Multi30k: {result["length"]}. Data: `bleu_by_length.json`.

| source words | sentences | {header} |
|---|---|{"---|" * len(names)}
{rows}

Multi30k captions are short (median 11 words, longest 32), far shorter than the up-to-60-word
news sentences of the paper, so the gap grows less steeply here.

## First test sentences (beam {beam_size})
| English | reference | {header} |
|---|---|{"---|" * len(names)}
{samples}

One 15-word sentence ("{SENTENCE_15_WORDS}"), median of 20 on this CPU with 2 threads
(`python -m training.evaluate_translator --latency_only`): {latency}.
Evaluating took {took} on this CPU.
{result["license"]}

## Reproduce
    python -m training.evaluate_translator
"""
    (ASSETS / "EVALUATION.md").write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
