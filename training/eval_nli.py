"""Accuracy of a trained NLI model on shared data sets or files, written into its folder.

    python -m training.eval_nli                                  # the bundled model, every test set
    python -m training.eval_nli --sets snli_test --limit 1000    # a quick look
    python -m training.eval_nli --folder artifacts/nli_frozen --sets snli_dev_heldout --no_write

Scores go into the folder's config.json ("tests") and its MODEL_CARD.md is rewritten.
Evaluation runs the whole model on the raw text (no cache), exactly as the app does.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from models.nli import ASSETS, NLI, load_nli
from models.text import read_json, write_json

from . import nli_data
from .nli_card import write_model_card
from .nli_data import LABELS, Pair
from .nli_recipe import NLIRecipe
from .nli_swaps import known, lexicon_of_run

EXAMPLES = Path(__file__).resolve().parent.parent / "assets" / "examples" / "nli_pairs.json"


def latency_ms(nli: NLI, repeats: int = 30) -> float:
    """Median milliseconds of one infer() on a 9-word premise and 5-word hypothesis."""
    premise, hypothesis = "A man in a blue shirt is playing a guitar.", "A person makes music."
    nli.infer(premise, hypothesis)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        nli.infer(premise, hypothesis)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1000


def evaluate_folder(folder: Path, sets: list[str], nli: NLI | None = None, limit: int = 0, write: bool = True) -> dict:
    nli = nli or load_nli(folder)
    info = read_json(folder / "config.json")
    recipe = NLIRecipe.from_training(info["training"]) if "training" in info else None
    trained_on = set(nli_data.train_names(recipe)) if recipe else set()
    results = {}
    for name in sets:
        pairs = nli_data.load(name)
        if limit:
            pairs = pairs[:limit]
        t0 = time.time()
        probs = nli.predict(pairs)
        gold = np.array([LABELS.index(p.label) for p in pairs])
        pred = probs.argmax(1)
        per_label = {
            l: round(float((pred[gold == k] == k).mean()), 4) if (gold == k).any() else None
            for k, l in enumerate(LABELS)
        }
        results[name] = {
            "pairs": len(pairs),
            "accuracy": round(float((pred == gold).mean()), 4),
            "recall_per_label": per_label,
            "trained_on_it": name in trained_on,
        }
        if name == "breaking_nli" and recipe and recipe.swap_pairs:
            # trained on pairs of Breaking NLI's form: say how it does on swaps it saw and on the others
            lexicon = lexicon_of_run(recipe)
            seen = np.array([known(lexicon, p) for p in pairs], dtype=bool)
            results[name]["by_lexicon"] = {
                part: {"pairs": int(mask.sum()), "accuracy": round(float((pred[mask] == gold[mask]).mean()), 4)}
                for part, mask in (("in_lexicon", seen), ("not_in_lexicon", ~seen))
                if mask.any()
            }
        flag = "  (trained on it: not a held-out figure)" if name in trained_on else ""
        print(
            f"  {name}: {results[name]['accuracy'] * 100:.2f} % of {len(pairs)} pairs, {time.time() - t0:.0f} s{flag}"
        )
    if write and not limit:
        info.setdefault("tests", {}).update(results)
        info["latency_ms"] = round(latency_ms(nli), 1)
        info["measured_on"] = f"{platform.machine()} CPU, {torch.get_num_threads()} threads, torch {torch.__version__}"
        print(f"  one infer(): {info['latency_ms']} ms ({info['measured_on']})")
        write_json(info, folder / "config.json")
        if recipe:  # the card describes a train_nli run
            write_model_card(folder)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folder", default=str(ASSETS))
    parser.add_argument("--sets", default=",".join(NLIRecipe().test))
    parser.add_argument("--limit", type=int, default=0, help="first N pairs of each set (then nothing is written)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no_write", action="store_true")
    parser.add_argument("--examples", action="store_true", help="only (re)write assets/examples/nli_pairs.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.examples:
        write_examples(load_nli(args.folder), EXAMPLES)
        return
    evaluate_folder(Path(args.folder), args.sets.split(","), limit=args.limit, write=not args.no_write)


def write_examples(nli: NLI, path: Path, premises: int = 2, breaking: int = 4) -> None:
    """assets/examples/nli_pairs.json: SNLI test premises whose three hypotheses (one per label) the
    model labels right, then Breaking NLI pairs it gets wrong (a one-word swap it aligns as if
    nothing changed), marked as failures. The tab shows "source, gold label: note" as the caption."""
    pairs = []
    snli = nli_data.load("snli_test")
    by_premise: dict[str, dict[str, Pair]] = {}
    for p in snli:
        by_premise.setdefault(p.premise, {}).setdefault(p.label, p)
    candidates = [hyps for pr, hyps in by_premise.items() if len(hyps) == 3 and len(pr.split()) <= 12][:200]
    flat = [hyps[label] for hyps in candidates for label in LABELS]
    probs = nli.predict(flat).reshape(len(candidates), 3, 3)
    for hyps, pr in zip(candidates, probs):
        if (pr.argmax(-1) == np.arange(3)).all() and (pr.max(-1) > 0.5).all():  # all three right, none a coin toss
            for label, q in zip(LABELS, pr):
                pairs.append(
                    {
                        "premise": hyps[label].premise,
                        "hypothesis": hyps[label].hypothesis,
                        "gold": label,
                        "source": "SNLI test",
                        "note": f"one premise, three hypotheses; the model says {label} ({q.max():.2f})",
                    }
                )
            if len(pairs) == 3 * premises:
                break
    wrong = [p for p in nli_data.load("breaking_nli") if len(p.premise.split()) <= 12][:1000]  # enough to find a few
    probs = nli.predict(wrong)
    seen: set[str] = set()
    for p, pr in zip(wrong, probs):
        predicted = LABELS[int(pr.argmax())]
        if predicted != p.label and p.premise not in seen:  # one failure per premise
            seen.add(p.premise)
            pairs.append(
                {
                    "premise": p.premise,
                    "hypothesis": p.hypothesis,
                    "gold": p.label,
                    "source": "Breaking NLI",
                    "note": f"FAILURE: one word swapped, and the model says {predicted} ({pr.max():.2f})",
                }
            )
        if len(seen) == breaking:
            break
    write_json(
        {
            "source": "SNLI 1.0 test (Bowman et al. 2015) and Breaking NLI (Glockner et al. 2018), both CC BY-SA 4.0; "
            "pairs the bundled model gets right, one per label, and Breaking NLI pairs where it fails, "
            "written by `python -m training.eval_nli --examples`",
            "pairs": pairs,
        },
        path,
    )
    print(f"wrote {len(pairs)} example pairs to {path}")


if __name__ == "__main__":
    main()
