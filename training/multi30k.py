"""Multi30k task 1 (English -> German image captions) from ../shared/data, and its subword vocabularies.

Elliott et al. 2016, "Multi30K: Multilingual English-German Image Descriptions". Splits:
train 29,000 / val 1,014 / test_2016_flickr 1,000 caption pairs, raw (untokenized) text.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

from models.translator import BOS, EOS, PAD, UNK  # the translator's special tokens

from .ud import shared_data_dir

SPLITS = ("train", "val", "test_2016_flickr")
SPECIALS = [PAD, UNK, BOS, EOS]  # ids 0, 1, 2, 3 in both vocabularies
LICENSE_NOTE = (
    "Multi30k (Elliott et al. 2016) is derived from Flickr30K; its authors provide it solely for "
    "non-commercial research and educational use (the repository has no LICENSE file)."
)


def multi30k_path(split: str, lang: str):
    return shared_data_dir() / "multi30k" / f"{split}.{lang}.gz"


def read_split(split: str) -> tuple[list[str], list[str]]:
    """(english, german) sentences of one split, aligned line by line."""
    if split not in SPLITS:
        raise ValueError(f"Unknown Multi30k split {split!r}; expected one of {SPLITS}.")
    sides = []
    for lang in ("en", "de"):
        path = multi30k_path(split, lang)
        if not path.exists():
            raise FileNotFoundError(
                f"Multi30k {split}.{lang} not found at {path}; set EXPLORER_DATA to the shared data folder."
            )
        with gzip.open(path, "rt", encoding="utf-8") as f:
            sides.append([line.rstrip("\n") for line in f])
    english, german = sides
    if len(english) != len(german):
        raise ValueError(f"Multi30k {split}: {len(english)} English lines but {len(german)} German lines.")
    return english, german


def train_bpe(sentences: Iterable[str], vocab_size: int, min_frequency: int = 2) -> Tokenizer:
    """A cased BPE tokenizer (HF `tokenizers`) whose decode() gives back detokenized text.

    Metaspace marks a word start with "▁" (as SentencePiece does) and Punctuation splits
    punctuation off without a marker, so "bike." -> "▁bike" "." and decoding glues "." back
    on: the German output can be scored by sacreBLEU as plain text.
    """
    tokenizer = Tokenizer(models.BPE(unk_token=UNK))
    # NFKC folds look-alike characters (full-width letters, ligatures) into the ones seen in training.
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Metaspace(), pre_tokenizers.Punctuation()])
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIALS, show_progress=False
    )
    tokenizer.train_from_iterator(sentences, trainer)
    for i, token in enumerate(SPECIALS):
        assert tokenizer.token_to_id(token) == i, (
            f"special token {token} has id {tokenizer.token_to_id(token)}, expected {i}"
        )
    return tokenizer
