"""Pure-PyTorch models of the explorer (no gradio here): definitions, inference, loaders."""
from .device import pick_device
from .encoder import Encoder, EncoderAttention, load_encoder
from .nli import NLI, NLIResult, load_nli
from .tagger import TagResult, Tagger, load_tagger
from .translator import Translation, Translator, load_translator

__all__ = ["pick_device", "load_tagger", "Tagger", "TagResult", "load_encoder", "Encoder", "EncoderAttention",
           "load_nli", "NLI", "NLIResult", "load_translator", "Translator", "Translation"]
