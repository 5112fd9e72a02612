"""Reading UD English EWT (.conllu.gz) from ../shared/data."""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import conllu

REPO = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """../shared/data beside the checkout; EXPLORER_DATA overrides."""
    return Path(os.environ.get("EXPLORER_DATA", REPO.parent / "shared" / "data"))


def ewt_path(split: str) -> Path:
    return shared_data_dir() / "ud_english_ewt" / f"en_ewt-ud-{split}.conllu.gz"


@dataclass
class TaggedSentence:
    words: list[str]
    upos: list[str]
    text: str


def read_ewt(split: str) -> list[TaggedSentence]:
    """Syntactic words with gold UPOS; multiword-token and empty-node lines are skipped."""
    path = ewt_path(split)
    if not path.exists():
        raise FileNotFoundError(
            f"UD EWT {split} split not found at {path}; set EXPLORER_DATA to the shared data folder."
        )
    with gzip.open(path, "rt", encoding="utf-8") as f:
        sentences = conllu.parse(f.read())
    out = []
    for sent in sentences:
        words = [tok for tok in sent if isinstance(tok["id"], int)]
        out.append(
            TaggedSentence([w["form"] for w in words], [w["upos"] for w in words], sent.metadata.get("text", ""))
        )
    return out


def pick_examples(
    sentences: list[TaggedSentence], count: int = 12, min_len: int = 4, max_len: int = 18
) -> list[TaggedSentence]:
    """A spread of short, cleanly tokenizable sentences for the app's examples."""
    from models.text import treebank_tokenize

    picked, lengths_seen = [], set()
    for s in sentences:
        n = len(s.words)
        joined = " ".join(s.words)
        # Keep sentences whose space-joined words tokenize back to the same words, so a
        # user who edits the example line still gets the gold tags lined up.
        if min_len <= n <= max_len and n not in lengths_seen and treebank_tokenize(joined) == s.words:
            picked.append(s)
            lengths_seen.add(n)
        if len(picked) == count:
            break
    return picked


if __name__ == "__main__":
    # python -m training.ud  -> assets/examples/ewt_dev.json (a few dev sentences with gold UPOS)
    from models.text import write_json

    out = REPO / "assets" / "examples" / "ewt_dev.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    examples = pick_examples(read_ewt("dev")[200:])
    write_json(
        {
            "source": "UD English EWT v2.16 dev split, CC BY-SA 4.0",
            "sentences": [{"words": s.words, "upos": s.upos} for s in examples],
        },
        out,
    )
    print(f"wrote {len(examples)} sentences to {out}")
