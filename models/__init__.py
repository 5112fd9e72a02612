"""Pure-PyTorch models of the explorer (no gradio here): definitions, inference, loaders.

The names below are imported on first use (PEP 562), so `import models.text` or
`from models import runtime` does not import torch: the app's first page needs neither.
"""

from importlib import import_module

_WHERE = {
    "pick_device": "device",
    "load_tagger": "tagger",
    "Tagger": "tagger",
    "TagResult": "tagger",
    "load_encoder": "encoder",
    "Encoder": "encoder",
    "EncoderAttention": "encoder",
    "load_nli": "nli",
    "NLI": "nli",
    "NLIResult": "nli",
    "load_translator": "translator",
    "Translator": "translator",
    "Translation": "translator",
}
__all__ = list(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module 'models' has no attribute {name!r}")
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
