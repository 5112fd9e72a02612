"""NLI sentence pairs: read any TSV/JSONL with gold_label, sentence1, sentence2, name the
shared data sets (SNLI dev/test, MultiNLI dev, SICK, Breaking NLI, nli_extra) in ../shared/data,
and select a recipe's training and selection pairs (training_sets, selection_sets).

sentence1 is the premise, sentence2 the hypothesis. Rows whose gold_label is not one of
the three labels (SNLI's "-": no annotator majority) are dropped, as is usual. A one-word-swap
pair (one_swap) is one whose hypothesis is its premise with one content word swapped: some sets
train without them (--drop_swapped_from), and training/nli_swaps.py makes more of them.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.nli import LABELS
from models.text import treebank_tokenize

from .nli_recipe import NLIRecipe
from .ud import shared_data_dir

# name -> path inside the shared data folder (see each folder's README for source and license)
SHARED = {
    "snli_dev": "snli_1.0/snli_1.0_dev.tsv.gz",
    "snli_test": "snli_1.0/snli_1.0_test.tsv.gz",
    "mnli_dev_matched": "multinli_1.0/multinli_1.0_dev_matched.tsv.gz",
    "mnli_dev_mismatched": "multinli_1.0/multinli_1.0_dev_mismatched.tsv.gz",
    "sick_train": "sick/SICK_train.tsv.gz",
    "sick_trial": "sick/SICK_trial.tsv.gz",
    "sick_test": "sick/SICK_test.tsv.gz",
    "breaking_nli": "breaking_nli/breaking_nli_test.tsv.gz",
    # nli_extra (its README): none shares a pair or premise with SNLI dev or test
    "snli_train_sample": "nli_extra/snli_train_sample.tsv.gz",  # 4,634 genuine SNLI train pairs: the selection set
    "cad_revised": "nli_extra/cad_revised.tsv.gz",  # counterfactual edits of SNLI train pairs (Kaushik et al. 2020)
    "mpe": "nli_extra/mpe.tsv.gz",  # Multiple Premise Entailment: four captions as one premise
    "xnli_en": "nli_extra/xnli_en.tsv.gz",  # XNLI English dev + test: MultiNLI genres, written fresh
}
# name -> (set, sets whose premises it must not share). cad_revised edits the very SNLI train
# pairs in snli_train_sample; half of its rows keep their premise, and training on them would
# leak into model selection on snli_train_sample.
PREMISE_DISJOINT = {"cad_revised_train": ("cad_revised", ("snli_train_sample",))}
# SNLI dev is split by premise into a training part and a held-out part for model selection:
# every hypothesis of one premise falls on the same side, so no premise is seen on both.
SNLI_DEV_PARTS = {"snli_dev_train": False, "snli_dev_heldout": True}
HELDOUT_SHARE = 5  # one premise in 5 (by a stable hash) is held out: about 2,000 pairs


@dataclass(frozen=True)
class Pair:
    premise: str
    hypothesis: str
    label: str  # one of LABELS


def _open_text(path: Path):
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return io.StringIO(raw.decode("utf-8"))


def read_pairs(path: Path | str) -> list[Pair]:
    """Pairs from a .tsv/.txt (header names the columns) or .jsonl file, optionally gzipped.

    Extra columns are ignored, so SNLI's and MultiNLI's original .txt/.jsonl files load as is.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"NLI file {path} not found.")
    stem = path.name[:-3] if path.name.endswith(".gz") else path.name
    rows: list[dict] = []
    with _open_text(path) as f:
        if stem.endswith(".jsonl"):
            rows = [json.loads(line) for line in f if line.strip()]
        else:
            # Fields are unquoted (a sentence may contain a quote character): QUOTE_NONE.
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    if rows and not {"gold_label", "sentence1", "sentence2"} <= set(rows[0]):
        raise ValueError(f"{path} needs the fields gold_label, sentence1, sentence2; it has {sorted(rows[0])}.")
    return [
        Pair(r["sentence1"].strip(), r["sentence2"].strip(), r["gold_label"].strip())
        for r in rows
        if r["gold_label"].strip() in LABELS and r["sentence1"].strip() and r["sentence2"].strip()
    ]


def heldout(premise: str) -> bool:
    """Whether this SNLI dev premise belongs to the held-out part (stable across runs and machines)."""
    return int(hashlib.sha1(premise.encode("utf-8")).hexdigest(), 16) % HELDOUT_SHARE == 0


def without_premises(pairs: list[Pair], others: list[Pair]) -> list[Pair]:
    """The pairs whose premise is no premise of `others` (compared exactly, after strip())."""
    taken = {p.premise for p in others}
    return [p for p in pairs if p.premise not in taken]


def load(name_or_path: str) -> list[Pair]:
    """A shared data set by name (SHARED, SNLI_DEV_PARTS, PREMISE_DISJOINT) or any file path."""
    if name_or_path in PREMISE_DISJOINT:
        base, others = PREMISE_DISJOINT[name_or_path]
        return without_premises(load(base), [p for other in others for p in load(other)])
    if name_or_path in SNLI_DEV_PARTS:
        side = SNLI_DEV_PARTS[name_or_path]
        return [p for p in load("snli_dev") if heldout(p.premise) == side]
    if name_or_path in SHARED:
        path = shared_data_dir() / SHARED[name_or_path]
        if not path.exists():
            raise FileNotFoundError(f"{name_or_path}: {path} not found; set EXPLORER_DATA to the shared data folder.")
        return read_pairs(path)
    return read_pairs(Path(name_or_path))


def known_names() -> list[str]:
    """Every set load() knows by name."""
    return [*SHARED, *SNLI_DEV_PARTS, *PREMISE_DISJOINT]


def label_counts(pairs: list[Pair]) -> dict[str, int]:
    return {label: sum(p.label == label for p in pairs) for label in LABELS}


def names(wanted: Sequence[str], dropped: Sequence[str] = ()) -> list[str]:
    """Set names (or paths) minus the excluded ones; an excluded name that is not in the list is a
    mistake (a typo would silently keep a non-commercial set), so it raises."""
    assert not isinstance(wanted, str) and not isinstance(dropped, str), (
        f"names() takes lists of names, not the strings {wanted!r}, {dropped!r} (nli_recipe.comma_list splits them)"
    )
    unknown = [n for n in dropped if n not in wanted]
    if unknown:
        raise ValueError(f"--exclude_sources names {unknown}, which are not in the training sets {wanted}.")
    return [n for n in wanted if n not in dropped]


# -- a recipe's pairs -------------------------------------------------------------------------
def load_sets(names: Sequence[str]) -> dict[str, list[Pair]]:
    return {name: load(name) for name in names}


def train_names(recipe: NLIRecipe) -> list[str]:
    """The sets a recipe trains on: --train less --exclude_sources."""
    return names(recipe.train, recipe.exclude_sources)


def training_sets(recipe: NLIRecipe) -> tuple[dict[str, list[Pair]], list[Pair]]:
    """The training sets of a recipe (train_names), --drop_swapped_from's sets without their
    one-word-swap pairs; and the pairs trained on (with --limit, a seeded sample of them).
    No lexical swaps yet: training/nli_swaps.py makes them from these."""
    sets = load_sets(train_names(recipe))
    for name in recipe.drop_swapped_from:
        if name not in sets:
            raise SystemExit(f"--drop_swapped_from names {name}, which is not a training set here")
        sets[name] = without_swaps(sets[name])
    pairs = [p for ps in sets.values() for p in ps]
    if recipe.limit:
        pairs = random.Random(recipe.seed).sample(pairs, min(recipe.limit, len(pairs)))
    return sets, pairs


def selection_sets(recipe: NLIRecipe) -> tuple[dict[str, list[Pair]], list[Pair]]:
    """The sets the epoch is chosen on (--valid) and the pairs scored (with --valid_limit, the first N)."""
    sets = load_sets(recipe.valid)
    pairs = [p for ps in sets.values() for p in ps]
    return sets, pairs[: recipe.valid_limit] if recipe.valid_limit else pairs


# -- one-word-swap pairs ----------------------------------------------------------------------
# Swaps of these words change the sentence's structure, not a thing in it ("The resources we are
# requesting" -> "... we sleep requesting" came from two hypotheses "are outside" / "sleep outside"):
# only content words are swapped. Negation is a different lesson than a swapped word.
FUNCTION_WORDS = frozenset(
    """a an the this that these those some any no not nobody nothing none never always all each every
    many much more most few one someone somebody something anyone anything everyone everything
    is are was were be been being am do does did has have had will would can could may might must
    shall should i you he she it we they me him her us them my your his its our their there here
    of in on at to for from by with without into onto over under up down out off about as than
    and or but if so because while when where who whom which what how then also just very too""".split()
)


def lower_words(sentence: str) -> list[str]:
    """The lower-cased treebank tokens of `sentence`."""
    return [t.lower() for t in treebank_tokenize(sentence)]


def one_swap(a: str, b: str) -> tuple[str, str] | None:
    """(word of a, word of b) when the two sentences differ in exactly one word, both alphabetic
    content words (not FUNCTION_WORDS)."""
    x, y = lower_words(a), lower_words(b)
    if len(x) != len(y):
        return None
    diff = [(u, v) for u, v in zip(x, y) if u != v]
    if len(diff) != 1 or not all(w.isalpha() and w not in FUNCTION_WORDS for w in diff[0]):
        return None
    return diff[0]


def swap_hosts(pairs: list[Pair], sets: dict[str, list[Pair]], no_swaps: set[str]) -> list[Pair]:
    """The training pairs whose premises may get a swapped hypothesis: all but those of the `no_swaps`
    sets (train_nli --no_swaps_from). Breaking NLI's premises are SNLI's; SICK's are shorter and plainer."""
    unknown = no_swaps - set(sets)
    if unknown:
        raise SystemExit(f"--no_swaps_from names {sorted(unknown)}, which are not training sets here")
    kept_out = {p for name in no_swaps for p in sets[name]}
    return [p for p in pairs if p not in kept_out]


def without_swaps(pairs: list[Pair]) -> list[Pair]:
    """The pairs whose hypothesis is not the premise with one content word swapped (train_nli
    --drop_swapped_from: SICK labels 973 of its 1,010 such pairs neutral or entailment)."""
    return [p for p in pairs if not one_swap(p.premise, p.hypothesis)]
