"""The mask experiment's data: a small, fixed subset of UD English EWT (CC BY-SA 4.0).

    python -m training.mask_data   -> assets/mask_experiment/ewt_subset.json

The experiment (models/mask_experiment.py) trains a tagger from scratch while a class waits,
so it needs a corpus small enough to ship (the issue's limit: 300 kB) and to learn from in
seconds: the first TRAIN sentences of EWT train and the first HELD_OUT of EWT dev whose lengths
lie in [MIN_WORDS, MAX_WORDS]. Short and long ones are both kept, so a batch has real padding.
The same files give the same subset, byte for byte.
"""

from __future__ import annotations

from models.text import write_json

from .ud import REPO, read_ewt

OUT = REPO / "assets" / "mask_experiment" / "ewt_subset.json"
TRAIN, HELD_OUT = 1200, 250
MIN_WORDS, MAX_WORDS = 2, 40
UPOS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN", "PUNCT",
        "SCONJ", "SYM", "VERB", "X")  # fmt: skip


def subset(split: str, count: int) -> list[list]:
    """[words, tag indices into UPOS] of the first `count` sentences of a usable length."""
    picked = []
    for sentence in read_ewt(split):
        if MIN_WORDS <= len(sentence.words) <= MAX_WORDS and all(t in UPOS for t in sentence.upos):
            picked.append([sentence.words, [UPOS.index(t) for t in sentence.upos]])
        if len(picked) == count:
            break
    return picked


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "source": "Universal Dependencies English EWT v2.16 (train and dev splits), "
        "https://universaldependencies.org/treebanks/en_ewt/",
        "licence": "CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/); this subset is shared under "
        "the same licence. Authors: Silveira et al. 2014 and the UD EWT contributors.",
        "selection": f"the first {TRAIN} train and {HELD_OUT} dev sentences with {MIN_WORDS} to {MAX_WORDS} words "
        "(python -m training.mask_data)",
        "tags": list(UPOS),
        "train": subset("train", TRAIN),
        "held_out": subset("dev", HELD_OUT),
    }
    write_json(data, OUT, indent=None)
    print(
        f"wrote {len(data['train'])} + {len(data['held_out'])} sentences, {OUT.stat().st_size / 1000:.0f} kB, to {OUT}"
    )


if __name__ == "__main__":
    main()
