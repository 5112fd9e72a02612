"""Pure-PyTorch models of the explorer (no gradio here): definitions, inference, loaders."""
from .device import pick_device
from .tagger import TagResult, Tagger, load_tagger
from .translator import Translation, Translator, load_translator

__all__ = ["pick_device", "load_tagger", "Tagger", "TagResult", "load_translator", "Translator", "Translation"]
