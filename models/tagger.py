"""A BiLSTM part-of-speech tagger trained on packed batches with a masked loss.

The "Taming LSTMs" recipe: pad -> pack_padded_sequence -> LSTM -> pad_packed_sequence ->
project -> log-softmax -> masked cross-entropy. Each word enters as three vectors:
a trained word embedding, a character CNN (so unseen words still show their shape and
suffixes), and a frozen pretrained vector from the bundled all-MiniLM-L6-v2: by default
the mean of the word's pieces' last-layer states (see models/minilm.py).
Training: `python -m training.train_tagger`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

from .device import pick_device
from .masking import masked_cross_entropy, sequence_mask, token_losses
from .minilm import PretrainedWordVectors, load_minilm
from .text import Vocab, read_json, treebank_tokenize, write_json

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "tagger"


@dataclass
class TaggerConfig:
    n_words: int
    n_chars: int
    n_tags: int
    word_dim: int = 100
    char_dim: int = 32
    char_filters: int = 100
    char_width: int = 3
    max_word_chars: int = 20  # longer words keep their first 10 and last 10 characters
    pretrained: str = "contextual"  # MiniLM word vectors: "contextual" | "input" (static) | "" (none)
    piece_dim: int = 384  # MiniLM's hidden size; 0 when pretrained == ""
    hidden: int = 128  # per direction; the bundled tagger's size (MiniLM vectors carry the context)
    layers: int = 2
    dropout: float = 0.33


@dataclass
class TaggerInputs:
    """One batch, padded: words/pieces/chars [B, T, ...]; lengths int64 on the CPU."""

    words: torch.Tensor  # (B, T) word ids, 0 = PAD
    chars: torch.Tensor  # (B, T, W) character ids, 0 = PAD
    pieces: torch.Tensor  # (B, T, piece_dim)
    lengths: torch.Tensor  # (B,) CPU int64: pack_padded_sequence wants them there


class BiLSTMTagger(nn.Module):
    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = c = config
        self.word_emb = nn.Embedding(c.n_words, c.word_dim, padding_idx=0)
        self.char_emb = nn.Embedding(c.n_chars, c.char_dim, padding_idx=0)
        self.char_conv = nn.Conv1d(c.char_dim, c.char_filters, c.char_width, padding=c.char_width // 2)
        self.dropout = nn.Dropout(c.dropout)
        input_dim = c.word_dim + c.char_filters + c.piece_dim
        self.lstm = nn.LSTM(input_dim, c.hidden, c.layers, batch_first=True, bidirectional=True, dropout=c.dropout)
        self.out = nn.Linear(2 * c.hidden, c.n_tags)

    def embed(self, x: TaggerInputs) -> torch.Tensor:
        """Per-word input vectors [B, T, word_dim + char_filters + piece_dim]."""
        B, T, W = x.chars.shape
        chars = self.char_emb(x.chars.view(B * T, W)).transpose(1, 2)  # (B*T, char_dim, W)
        conv = torch.relu(self.char_conv(chars))  # (B*T, F, W)
        conv = conv.masked_fill((x.chars.view(B * T, 1, W) == 0), 0.0)  # ReLU >= 0, so 0 never wins the max
        char_vec = conv.max(dim=2).values.view(B, T, -1)  # (B, T, F)
        parts = [self.word_emb(x.words), char_vec]
        if self.config.piece_dim:
            parts.append(x.pieces)
        return self.dropout(torch.cat(parts, dim=-1))  # (B, T, D)

    def encode(self, embedded: torch.Tensor, lengths: torch.Tensor, packed: bool = True) -> torch.Tensor:
        """BiLSTM states [B, T, 2H]. packed=False runs over the PAD cells too (the naive way)."""
        if not packed:
            states, _ = self.lstm(embedded)  # backward direction starts reading at the PADs
            return states
        seq = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        states, _ = self.lstm(seq)
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=embedded.shape[1])
        return states  # (B, T, 2H)

    def forward(self, x: TaggerInputs, packed: bool = True) -> torch.Tensor:
        """Tag scores [B, T, n_tags] (log-softmax them for probabilities)."""
        states = self.encode(self.embed(x), x.lengths, packed=packed)
        return self.out(self.dropout(states))


@dataclass
class TagResult:
    """Tags for one sentence.

    tokens: list[str], the words tagged
    tags: list[str], one UPOS tag per token
    probs: float[len(tokens), len(tagset)], rows sum to 1
    """

    tokens: list[str]
    tags: list[str]
    probs: np.ndarray


@dataclass(frozen=True, kw_only=True)
class MaskedLoss:
    """The tagger's cross-entropy on a padded batch against gold tags.

    token_loss: float[B, T] per cell, PAD cells included (their target is tag 0, a real class,
        so they *do* add loss); masked: sum(loss * mask) / sum(mask), the right mean;
    unmasked: the wrong mean over all B x T cells
    """

    token_loss: np.ndarray
    masked: float
    unmasked: float


@dataclass(frozen=True, kw_only=True)
class PackingCost:
    """What padding vs packing costs the BiLSTM on one batch (medians of `repeats` runs).

    *_forward_ms: one forward pass (tagging); *_forward_backward_ms: forward + backward (training)
    max_state_difference: largest |padded - packed| BiLSTM output at real positions
    spread: the same four keys (without _ms) -> (min, max) ms of the repeats
    """

    padded_forward_ms: float
    packed_forward_ms: float
    padded_forward_backward_ms: float
    packed_forward_backward_ms: float
    max_state_difference: float
    repeats: int
    device: str
    spread: dict[str, tuple[float, float]]


class Tagger:
    """The trained model with its vocabularies: text -> tokens -> tags."""

    def __init__(
        self,
        model: BiLSTMTagger,
        words: Vocab,
        chars: Vocab,
        tagset: list[str],
        pieces: PretrainedWordVectors | None,
        device: torch.device | None = None,
    ):
        self.device = device or pick_device()
        self.model = model.to(self.device).eval()
        self.words, self.chars, self.tagset = words, chars, list(tagset)
        self.pieces = pieces.to(self.device) if pieces is not None else None

    # -- text to tensors --------------------------------------------------------
    @staticmethod
    def tokenize(text: str) -> list[str]:
        """Raw text -> tokens the way UD EWT tokenizes ("don't" -> "do" "n't")."""
        return treebank_tokenize(text)

    def word_ids(self, tokens: list[str]) -> list[int]:
        return self.words.encode(t.lower() for t in tokens)

    def char_ids(self, token: str) -> list[int]:
        W = self.model.config.max_word_chars
        if len(token) > W:
            token = token[: W // 2] + token[-(W - W // 2) :]
        return self.chars.encode(token)

    def inputs(self, sentences: list[list[str]], piece_vectors: list[torch.Tensor] | None = None) -> TaggerInputs:
        """Pad a batch of token lists into TaggerInputs on the model's device."""
        if not sentences or any(len(s) == 0 for s in sentences):
            raise ValueError("Every sentence needs at least one token.")
        B, T = len(sentences), max(len(s) for s in sentences)
        char_ids = [[self.char_ids(t) for t in s] for s in sentences]
        W = max(len(ids) for s in char_ids for ids in s)
        # Filled as numpy arrays, then moved once: a torch.tensor per token costs more than the tagging.
        words = np.zeros((B, T), dtype=np.int64)
        chars = np.zeros((B, T, max(W, 1)), dtype=np.int64)
        if not self.model.config.piece_dim:
            pieces = torch.zeros(B, T, 0, device=self.device)
        elif piece_vectors is None:
            pieces = self.pieces.vectors(self.pieces.piece_batch(sentences))  # (B, T, piece_dim), zeros past each end
        else:  # vectors cached by training, one tensor per sentence
            pieces = pad_sequence([v.to(self.device) for v in piece_vectors], batch_first=True)  # (B, T, piece_dim)
        for b, sent in enumerate(sentences):
            words[b, : len(sent)] = self.word_ids(sent)
            for t, ids in enumerate(char_ids[b]):
                chars[b, t, : len(ids)] = ids
        lengths = torch.tensor([len(s) for s in sentences], dtype=torch.long)
        dev = self.device
        return TaggerInputs(torch.from_numpy(words).to(dev), torch.from_numpy(chars).to(dev), pieces, lengths)

    # -- inference ----------------------------------------------------------------
    @torch.no_grad()
    def tag(self, sentences: list[list[str]]) -> list[TagResult]:
        """Tag pre-tokenized sentences; returns one TagResult per sentence."""
        x = self.inputs(sentences)
        probs = torch.softmax(self.model(x), dim=-1).cpu().numpy()  # (B, T, C), one transfer
        results = []
        for b, sent in enumerate(sentences):
            p = probs[b, : len(sent)]
            results.append(TagResult(list(sent), [self.tagset[i] for i in p.argmax(-1)], p))
        return results

    def tag_text(self, text: str) -> TagResult:
        return self.tag([self.tokenize(text)])[0]

    @torch.no_grad()
    def masked_loss(self, sentences: list[list[str]], gold_tags: list[list[str]]) -> MaskedLoss:
        """Cross-entropy of the padded batch against gold tags, per cell and as the masked and unmasked means."""
        tag_id = {t: i for i, t in enumerate(self.tagset)}
        x = self.inputs(sentences)
        scores = self.model(x)  # (B, T, C)
        targets = torch.zeros(scores.shape[:2], dtype=torch.long)  # PAD cells get tag 0
        for b, tags in enumerate(gold_tags):
            targets[b, : len(tags)] = torch.tensor([tag_id[t] for t in tags])
        targets = targets.to(scores.device)
        mask = sequence_mask(x.lengths, scores.shape[1]).to(scores.device)  # (B, T)
        masked = masked_cross_entropy(scores, targets, mask)
        losses = token_losses(scores, targets).cpu().numpy()  # (B, T)
        return MaskedLoss(token_loss=losses, masked=float(masked), unmasked=float(losses.mean()))

    def packing_cost(self, sentences: list[list[str]], repeats: int = 5) -> PackingCost:
        """Time the BiLSTM on this batch padded and packed, forward and forward+backward, and
        compare their outputs. The Batch view shows it; `python -m bench` reports the same."""
        x = self.inputs(sentences)
        with torch.no_grad():
            embedded = self.model.embed(x)
            packed_states = self.model.encode(embedded, x.lengths, packed=True)  # (B, T, 2H)
            padded_states = self.model.encode(embedded, x.lengths, packed=False)
            mask = sequence_mask(x.lengths, packed_states.shape[1]).to(packed_states.device)
            difference = float((packed_states - padded_states).abs()[mask].max())
        ms = {
            (packed, backward): [t * 1000 for t in time_forward(self.model, x, packed, repeats, backward)]
            for backward in (False, True)
            for packed in (False, True)
        }
        names = {(False, False): "padded_forward", (True, False): "packed_forward",
                 (False, True): "padded_forward_backward", (True, True): "packed_forward_backward"}  # fmt: skip
        median = {names[k]: float(np.median(v)) for k, v in ms.items()}
        return PackingCost(
            **{f"{name}_ms": value for name, value in median.items()},
            max_state_difference=difference,
            repeats=repeats,
            device=str(self.device),
            spread={names[k]: (min(v), max(v)) for k, v in ms.items()},
        )

    # -- weights on disk ----------------------------------------------------------
    def save(self, folder: Path, extra_config: dict | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        save_file(state, str(folder / "model.safetensors"))
        write_json({"model": asdict(self.model.config), **(extra_config or {})}, folder / "config.json")
        write_json(
            {"words": self.words.to_json(), "chars": self.chars.to_json(), "tags": self.tagset}, folder / "vocab.json"
        )


def load_tagger(folder: Path | str | None = None, device: torch.device | None = None, minilm=None) -> Tagger:
    """The bundled BiLSTM UPOS tagger (assets/tagger), rebuilt from its config.json; its frozen
    word vectors read `minilm` (models.minilm.MiniLM, the app's shared copy) or a copy of its own."""
    folder = Path(folder) if folder else ASSETS
    for name in ("model.safetensors", "config.json", "vocab.json"):
        if not (folder / name).exists():
            raise FileNotFoundError(
                f"Tagger file {folder / name} is missing. Restore it with `git checkout -- assets/tagger` "
                "or retrain with `python -m training.train_tagger`."
            )
    config = TaggerConfig(**read_json(folder / "config.json")["model"])
    vocab = read_json(folder / "vocab.json")
    model = BiLSTMTagger(config)
    try:
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
    except Exception as err:  # corrupt file or wrong shapes: name the file and the fix
        raise RuntimeError(
            f"Could not load {folder / 'model.safetensors'} ({err}). Restore it with `git checkout -- assets/tagger`."
        ) from err
    device = device or (minilm.device if minilm is not None else pick_device())
    if config.pretrained and minilm is None:
        minilm = load_minilm(device)
    pieces = PretrainedWordVectors(config.pretrained, minilm) if config.pretrained else None
    return Tagger(
        model, Vocab.from_json(vocab["words"]), Vocab.from_json(vocab["chars"]), vocab["tags"], pieces, device
    )


def time_forward(
    model: BiLSTMTagger, x: TaggerInputs, packed: bool, repeats: int = 5, backward: bool = False
) -> list[float]:
    """Seconds of each of `repeats` forward (and backward) passes, padded or packed.

    The backward pass computes every parameter's gradient with torch.autograd.grad, which
    returns them instead of adding them to .grad: the model is shared by every request of
    the app, and timing must not leave gradients on it.
    """
    parameters = [p for p in model.parameters() if p.requires_grad]
    times = []
    for _ in range(repeats):
        if x.words.is_cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.set_grad_enabled(backward):
            scores = model(x, packed=packed)
            if backward:
                torch.autograd.grad(scores.sum(), parameters)
        if x.words.is_cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times
