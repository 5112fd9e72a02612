"""NLI sentence pairs: read any TSV/JSONL with gold_label, sentence1, sentence2, and name
the shared data sets (SNLI dev/test, MultiNLI dev, SICK, Breaking NLI, nli_extra) in ../shared/data.

sentence1 is the premise, sentence2 the hypothesis. Rows whose gold_label is not one of
the three labels (SNLI's "-": no annotator majority) are dropped, as is usual.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.nli import LABELS

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
