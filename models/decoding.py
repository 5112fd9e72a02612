"""What every English -> German translator here shares, the GRUs (models/translator.py) and the
Transformer (models/transformer.py): the special tokens, a search hypothesis and the Translation
the views draw. Kept apart so neither model file imports the other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import Tokenizer

from .text import write_json

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"  # ids 0, 1, 2, 3 in every vocabulary
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


@dataclass
class Hypothesis:
    """One finished (or cut-off) output of the search: target ids incl. EOS, per-step log-probs and α."""

    ids: list[int]
    log_probs: list[float]
    attention: list[np.ndarray] = field(default_factory=list)  # one float[S] per step (empty without attention)

    @property
    def log_prob(self) -> float:
        return float(sum(self.log_probs))

    def score(self, alpha: float) -> float:
        """Length-normalized log-probability (Wu et al. 2016): log p / ((5 + |y|) / 6)^alpha."""
        return self.log_prob / (((5 + len(self.ids)) / 6) ** alpha)


@dataclass
class Translation:
    """One translation of one source sentence.

    source_tokens: list[str], English subwords the encoder read, ending with "</s>"
    target_tokens: list[str], German subwords generated, ending with "</s>" (unless cut off at the length limit)
    text: str, the detokenized German translation
    attention: float[len(target_tokens), len(source_tokens)], α_ts, rows sum to 1;
        None for the no_attention variant (its decoder reads one fixed C, there is no alignment)
    token_log_probs: float[len(target_tokens)], log p(y_t | y_<t, x) of each chosen token
    log_prob: sum of token_log_probs; score: the length-normalized log-prob beam search ranks by
    beams: the beam_size finished hypotheses, best first (this translation is beams[0])
    unknown: source characters no subword covers (they became "<unk>")
    """

    source_tokens: list[str]
    target_tokens: list[str]
    text: str
    attention: np.ndarray | None
    token_log_probs: np.ndarray
    log_prob: float
    score: float
    beams: list[Translation]
    unknown: list[str]


class SubwordTranslator:
    """What both translators do with text: BPE in, padded id tensors to the model, subwords back to text.

    A subclass sets source_tokenizer, target_tokenizer (the same object when the vocabulary is
    shared) and device.
    """

    source_tokenizer: Tokenizer
    target_tokenizer: Tokenizer
    device: torch.device
    model: torch.nn.Module  # with a dataclass `config`
    length_alpha: float

    def encode_source(self, text: str) -> tuple[list[int], list[str], list[str]]:
        """English text -> (ids ending with EOS, their tokens, characters that became <unk>)."""
        encoding = self.source_tokenizer.encode(text)
        unknown = [text[a:b] for (a, b), i in zip(encoding.offsets, encoding.ids) if i == UNK_ID]
        return encoding.ids + [EOS_ID], encoding.tokens + [EOS], unknown

    def padded(self, encoded: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Id lists padded to one [B, S] tensor on the model's device, and their lengths (CPU)."""
        lengths = torch.tensor([len(e) for e in encoded])
        source = torch.full((len(encoded), int(lengths.max())), PAD_ID, dtype=torch.long)
        for b, e in enumerate(encoded):
            source[b, : len(e)] = torch.tensor(e)
        return source.to(self.device), lengths

    def detokenize(self, ids: list[int]) -> str:
        """Target ids -> plain German text (specials dropped)."""
        return self.target_tokenizer.decode([i for i in ids if i > EOS_ID])

    def translate(self, text: str, beam_size: int = 1, source: tuple | None = None) -> Translation:
        """Translate one English sentence; beam_size = 1 is greedy search. `source`: what
        encode_source(text) gave, when the caller has tokenized it already (to check its length).
        Returns the best Translation, with every finished hypothesis, best first, in its .beams."""
        if beam_size < 1:
            raise ValueError(f"beam_size must be at least 1, got {beam_size}.")
        source = source or self.encode_source(text)
        if len(source[0]) == 1 or not text.strip():
            raise ValueError("The sentence has no tokens to translate: type some words.")
        ids = torch.tensor([source[0]], device=self.device)
        hyps = self.greedy(ids, torch.tensor([ids.shape[1]])) if beam_size == 1 else self.beam(ids, beam_size)
        beams = self.translations(hyps, [source] * len(hyps))
        beams[0].beams = beams
        return beams[0]

    def translate_many(self, sources: list[tuple]) -> list[Translation]:
        """Greedy translations of several sentences in one batched search: each source is what
        encode_source gave (ids, tokens, unknown). The app's queued requests share the decoder's
        steps this way; each row's output is what translate(beam_size=1) gives it alone (the
        padding is masked out of attention and, in the GRU, packed out of the encoder)."""
        if not sources:
            return []
        translations = self.translations(self.greedy(*self.padded([ids for ids, _, _ in sources])), sources)
        for t in translations:
            t.beams = [t]
        return translations

    def translations(self, hyps: list[Hypothesis], sources: list[tuple]) -> list[Translation]:
        raise NotImplementedError(f"{type(self).__name__} must define translations(hyps, sources)")

    def beam(self, source: torch.Tensor, beam_size: int) -> list[Hypothesis]:
        raise NotImplementedError(f"{type(self).__name__} must define beam(source, beam_size)")

    def greedy(self, source: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        raise NotImplementedError(f"{type(self).__name__} must define greedy(source, lengths)")

    def translate_batch(self, texts: list[str]) -> list[str]:
        """Greedy translations of many sentences at once (evaluation); returns detokenized text."""
        hyps = self.greedy(*self.padded([self.encode_source(t)[0] for t in texts]))
        return [self.detokenize(h.ids) for h in hyps]

    def save_weights(self, folder: Path, extra_config: dict | None = None, fp16: bool = True) -> None:
        """model.safetensors (fp16 halves the file; loading casts back to fp32) and config.json
        (the model's config, the beam's length_alpha and anything the trainer adds)."""
        folder.mkdir(parents=True, exist_ok=True)
        dtype = torch.float16 if fp16 else torch.float32
        state = {k: v.detach().cpu().to(dtype).contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"))
        config = {"model": asdict(self.model.config), "length_alpha": self.length_alpha, **(extra_config or {})}
        write_json(config, folder / "config.json")
