"""A Transformer encoder-decoder that translates English to German (Vaswani et al. 2017).

"Attention Is All You Need", section 3: the encoder is a stack of layers of multi-head
self-attention and a position-wise feed-forward network; the decoder adds a second attention
whose queries come from the decoder and whose keys and values come from the encoder (cross-
attention), and its self-attention is masked so position t sees only y_<t+1 (the causal mask).
Every attention is written out, not taken from `nn.MultiheadAttention`, so each head's weights

    A = softmax(Q Kᵀ / √d_k + M),  M = 0 where allowed, −∞ where masked

can be returned and drawn (tests/test_transformer.py checks the output against
`torch.nn.functional.scaled_dot_product_attention`).

Choices, and why:
- Sinusoidal positions (section 3.5), not learned ones: the paper found the same BLEU, they add
  no parameters, and a user's sentence longer than any Multi30k caption still gets positions
  that training shaped (learned positions past the longest training caption would be untrained).
- Pre-layer-norm (x + Sublayer(LayerNorm(x)), Xiong et al. 2020), not the paper's post-norm: it
  trains without a long warm-up, which matters on a small corpus and a small CPU budget.
- One BPE vocabulary for both languages, with the source embedding, the target embedding and
  the output layer tied (Press & Wolf 2017): German and English share names and numbers, and a
  third of the parameters go.
Training: `python -m training.train_transformer` (its card: assets/translator/transformer/).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file
from tokenizers import Tokenizer

from .decoding import BOS, BOS_ID, EOS, EOS_ID, PAD, PAD_ID, UNK, Hypothesis, SubwordTranslator, Translation
from .device import pick_device
from .text import read_json

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "translator" / "transformer"


@dataclass
class TransformerConfig:
    vocab: int  # one BPE vocabulary for English and German, specials included
    d_model: int = 256
    heads: int = 4  # d_k = d_model / heads = 64: few enough heads to look at one by one
    encoder_layers: int = 3
    decoder_layers: int = 3
    d_ff: int = 1024
    dropout: float = 0.3  # high for a Transformer: Multi30k has only 29,000 training pairs
    attention_dropout: float = 0.1  # on the weights A during training only; the views see A undropped
    max_positions: int = 512  # sinusoids are tabulated this far (the app's limits are far below)
    max_length_ratio: float = 2.0  # decoding stops after ratio * len(source) + 10 tokens
    alignment_layer: int = -2  # the decoder layer whose head-mean cross-attention is `attention` (see below)

    @property
    def alignment_index(self) -> int:
        """alignment_layer as an index into the decoder's layers; a one-layer decoder has only its last."""
        return max(self.alignment_layer, -self.decoder_layers)


def causal_mask(T: int, device: torch.device | None = None) -> torch.Tensor:
    """allowed[t, s] = s <= t: decoder position t may read its own input and the ones before; bool [T, T]."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def sinusoidal_positions(n: int, d: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(p / 10000^(2i/d)); returns [n, d]."""
    position = torch.arange(n, dtype=torch.float32)[:, None]  # (n, 1)
    frequency = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))  # (d/2,)
    table = torch.zeros(n, d)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    return table


class MultiHeadAttention(nn.Module):
    """head_h = softmax(Q_h K_hᵀ / √d_k, masked) V_h; out = [head_1; …; head_H] W_O (section 3.2.2).

    Q comes from `queries`, K and V from `keys_values`: the same tensor for self-attention, the
    encoder's output for cross-attention. Returns out [B, Tq, D] and the weights [B, H, Tq, Tk].
    """

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        assert d_model % heads == 0, f"d_model {d_model} is not divisible by {heads} heads"
        self.heads, self.d_k = heads, d_model // heads
        self.w_q, self.w_k, self.w_v, self.w_o = (nn.Linear(d_model, d_model) for _ in range(4))
        self.dropout = nn.Dropout(dropout)

    def split(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        return x.view(B, T, self.heads, self.d_k).transpose(1, 2)  # (B, H, T, d_k)

    def forward(
        self, queries: torch.Tensor, keys_values: torch.Tensor, allowed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """allowed: bool, broadcastable to [B, H, Tq, Tk]; False cells get weight exactly 0."""
        B, Tq, D = queries.shape
        q, k, v = self.split(self.w_q(queries)), self.split(self.w_k(keys_values)), self.split(self.w_v(keys_values))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.d_k)  # (B, H, Tq, Tk)
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)  # (B, H, Tq, Tk)
        heads = self.dropout(weights) @ v  # (B, H, Tq, d_k)
        return self.w_o(heads.transpose(1, 2).reshape(B, Tq, D)), weights


class FeedForward(nn.Module):
    """FFN(x) = W_2 ReLU(W_1 x), the same at every position (section 3.3)."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(c.d_model, c.d_ff), nn.ReLU(), nn.Dropout(c.dropout), nn.Linear(c.d_ff, c.d_model)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class EncoderLayer(nn.Module):
    """x + SelfAttention(LN(x)), then x + FFN(LN(x)); every source token reads every source token."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.self_attention = MultiHeadAttention(c.d_model, c.heads, c.attention_dropout)
        self.feed_forward = FeedForward(c)
        self.norm1, self.norm2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, x: torch.Tensor, source_allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.norm1(x)
        attended, weights = self.self_attention(h, h, source_allowed)
        x = x + self.dropout(attended)
        return x + self.dropout(self.feed_forward(self.norm2(x))), weights


class DecoderLayer(nn.Module):
    """y + MaskedSelfAttention(LN(y)), y + CrossAttention(LN(y), memory), y + FFN(LN(y))."""

    def __init__(self, c: TransformerConfig):
        super().__init__()
        self.self_attention = MultiHeadAttention(c.d_model, c.heads, c.attention_dropout)
        self.cross_attention = MultiHeadAttention(c.d_model, c.heads, c.attention_dropout)
        self.feed_forward = FeedForward(c)
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(c.d_model) for _ in range(3))
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, y, memory, target_allowed, source_allowed):
        h = self.norm1(y)
        attended, self_weights = self.self_attention(h, h, target_allowed)  # causal: y_t reads y_<=t
        y = y + self.dropout(attended)
        attended, cross_weights = self.cross_attention(self.norm2(y), memory, source_allowed)  # Q from y, K V from x
        y = y + self.dropout(attended)
        return y + self.dropout(self.feed_forward(self.norm3(y))), self_weights, cross_weights


@dataclass
class Attentions:
    """Every attention of one forward, stacked over layers: [B, layers, heads, Tq, Tk] each."""

    encoder: torch.Tensor  # (B, L, H, S, S)
    decoder: torch.Tensor  # (B, L, H, T, T), 0 above the diagonal
    cross: torch.Tensor  # (B, L, H, T, S)


class Transformer(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        c = self.config = config
        self.embedding = nn.Embedding(c.vocab, c.d_model, padding_idx=PAD_ID)  # shared: source, target, output
        nn.init.normal_(self.embedding.weight, std=c.d_model**-0.5)  # times √d below: unit scale at the input
        with torch.no_grad():
            self.embedding.weight[PAD_ID].zero_()
        self.register_buffer("positions", sinusoidal_positions(c.max_positions, c.d_model), persistent=False)
        self.encoder_layers = nn.ModuleList(EncoderLayer(c) for _ in range(c.encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(c) for _ in range(c.decoder_layers))
        self.encoder_norm, self.decoder_norm = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.dropout = nn.Dropout(c.dropout)

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """E[ids] √d + PE[:T] (section 3.4): [B, T] -> [B, T, D]."""
        T = ids.shape[1]
        if T > self.config.max_positions:
            raise ValueError(f"{T} tokens is over the model's {self.config.max_positions} positions.")
        return self.dropout(self.embedding(ids) * math.sqrt(self.config.d_model) + self.positions[:T])

    def encode(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        """source [B, S] (PAD after each sentence) -> memory [B, S, D], source_allowed [B, 1, 1, S], weights."""
        source_allowed = (source != PAD_ID)[:, None, None, :]  # (B, 1, 1, S): no query reads a pad
        x, weights = self.embed(source), []
        for layer in self.encoder_layers:
            x, w = layer(x, source_allowed)
            weights.append(w)
        return self.encoder_norm(x), source_allowed, weights

    def decode(self, target_in: torch.Tensor, memory: torch.Tensor, source_allowed: torch.Tensor):
        """target_in [B, T] = <s> y_1 … y_{T-1} -> features [B, T, D], decoder and cross weights per layer.

        Pads at the end of target_in need no mask of their own: under the causal mask a real
        position never reads a later one.
        """
        target_allowed = causal_mask(target_in.shape[1], target_in.device)  # (T, T)
        y, self_weights, cross_weights = self.embed(target_in), [], []
        for layer in self.decoder_layers:
            y, ws, wc = layer(y, memory, target_allowed, source_allowed)
            self_weights.append(ws), cross_weights.append(wc)
        return self.decoder_norm(y), self_weights, cross_weights

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Scores over the shared vocabulary: features Eᵀ (the output layer is the embedding)."""
        return features @ self.embedding.weight.T  # (B, T, V)

    def forward(self, source: torch.Tensor, target_in: torch.Tensor) -> tuple[torch.Tensor, Attentions]:
        """Teacher forcing: logits [B, T, V] for every target position at once, and every attention."""
        memory, source_allowed, encoder_weights = self.encode(source)
        features, decoder_weights, cross_weights = self.decode(target_in, memory, source_allowed)
        attentions = Attentions(
            torch.stack(encoder_weights, dim=1), torch.stack(decoder_weights, dim=1), torch.stack(cross_weights, dim=1)
        )
        return self.logits(features), attentions


# -- search ---------------------------------------------------------------------------
# Each step runs the decoder over the whole prefix again (no key/value cache): a caption is
# about 15 subwords, so the repeated work is small, and the code stays the formula.


def _last_log_probs(model: Transformer, prefix: torch.Tensor, memory, source_allowed) -> torch.Tensor:
    features, _, _ = model.decode(prefix, memory, source_allowed)
    return torch.log_softmax(model.logits(features[:, -1]), dim=-1)  # (B, V)


@torch.no_grad()
def greedy_search(model: Transformer, source: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
    """argmax y_t at every step for a batch of B sources [B, S]; each row stops at EOS or its length limit."""
    memory, source_allowed, _ = model.encode(source)
    B, device = source.shape[0], source.device
    limits = (model.config.max_length_ratio * lengths.float() + 10).long()  # (B,) CPU
    prefix = torch.full((B, 1), BOS_ID, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    limits_on_device, log_probs = limits.to(device), []
    for t in range(int(limits.max())):
        best, y = _last_log_probs(model, prefix, memory, source_allowed).max(dim=-1)  # (B,), (B,)
        prefix = torch.cat([prefix, y[:, None]], dim=1)
        log_probs.append(best)
        done |= (y == EOS_ID) | (t + 1 >= limits_on_device)
        if bool(done.all()):
            break
    ids_np, log_probs_np = prefix[:, 1:].cpu().numpy(), torch.stack(log_probs, dim=1).cpu().numpy()  # (B, T)
    hyps = []
    for b in range(B):
        ends = np.flatnonzero(ids_np[b] == EOS_ID)
        n = min(int(ends[0]) + 1 if len(ends) else ids_np.shape[1], int(limits[b]))
        hyps.append(Hypothesis(ids_np[b, :n].tolist(), log_probs_np[b, :n].tolist()))
    return hyps


@torch.no_grad()
def beam_search(
    model: Transformer, source: torch.Tensor, beam_size: int, length_alpha: float = 0.6
) -> list[Hypothesis]:
    """The beam_size best outputs of one source [1, S], best first; the live hypotheses are one batch.

    The same rule as the GRU's (models/translator.py): of the 2k best extensions, an EOS among the
    best k finishes a hypothesis, the best k others stay live; stop when k have finished.
    """
    k, device = beam_size, source.device
    memory, source_allowed, _ = model.encode(source)
    max_len = int(model.config.max_length_ratio * source.shape[1] + 10)
    live = [Hypothesis([], [])]
    live_scores = torch.zeros(1, device=device)  # (n,)
    prefix = torch.full((1, 1), BOS_ID, dtype=torch.long, device=device)  # (n, t)
    finished: list[Hypothesis] = []
    for _ in range(max_len):
        n = prefix.shape[0]
        log_probs = _last_log_probs(model, prefix, memory.expand(n, -1, -1), source_allowed.expand(n, -1, -1, -1))
        totals = live_scores[:, None] + log_probs  # (n, V)
        V = log_probs.shape[1]
        _, top = totals.view(-1).topk(min(2 * k, totals.numel()))
        word_log_probs = log_probs.view(-1)[top].tolist()
        keep_rows, keep_ids, next_live = [], [], []
        for rank, (flat, word_log_prob) in enumerate(zip(top.tolist(), word_log_probs)):
            row, word = divmod(flat, V)
            if word == EOS_ID and rank >= k:
                continue
            h = Hypothesis(live[row].ids + [word], live[row].log_probs + [word_log_prob])
            if word == EOS_ID:
                finished.append(h)
            elif len(next_live) < k:
                next_live.append(h), keep_rows.append(row), keep_ids.append(word)
        if len(finished) >= k or not next_live:
            break
        live = next_live
        keep = torch.tensor([keep_rows, keep_ids], device=device)
        prefix = torch.cat([prefix[keep[0]], keep[1][:, None]], dim=1)
        live_scores = totals[keep[0], keep[1]]
    else:
        finished.extend(live)  # the length limit: cut-off hypotheses still count, without EOS
    return sorted(finished, key=lambda h: -h.score(length_alpha))[:k]


# -- the translator: text in, tokens, text and every attention out -----------------------
@dataclass
class TransformerTranslation(Translation):
    """The GRU's Translation (models/decoding.py), plus every attention of the Transformer.

    encoder_attention: float[layers, heads, S, S], rows sum to 1 (S = len(source_tokens))
    decoder_attention: float[layers, heads, T, T] (T = len(target_tokens)); row t belongs to the
        decoder input that writes target_tokens[t] (<s> for t = 0, else target_tokens[t-1]);
        0 above the diagonal (the causal mask), rows sum to 1
    cross_attention: float[layers, heads, T, S], row t: where the decoder looked while writing target_tokens[t]
    attention: float[T, S], the head mean of cross_attention at config.alignment_layer. The
        penultimate layer by default: in Transformers trained for translation the penultimate
        layer's cross-attention agrees best with word alignments (Garg et al. 2019, "Jointly
        Learning to Align and Translate with Transformer Models"), and a mean over its heads
        is one alignment to set beside the GRU's α.
    """

    encoder_attention: np.ndarray
    decoder_attention: np.ndarray
    cross_attention: np.ndarray


class TransformerTranslator(SubwordTranslator):
    """The trained Transformer with its shared BPE tokenizer: English text -> German text + attentions."""

    variant = "transformer"
    has_attention = True

    def __init__(self, model: Transformer, tokenizer: Tokenizer, device: torch.device | None = None, length_alpha=0.6):
        self.device = device or pick_device()
        self.model = model.to(self.device).eval()
        self.source_tokenizer = self.target_tokenizer = tokenizer
        self.length_alpha = length_alpha

    @torch.no_grad()
    def translations(self, hyps: list[Hypothesis], sources: list[tuple]) -> list[TransformerTranslation]:
        """One teacher-forced forward over the chosen outputs gives every attention of each (rows padded)."""
        source, lengths = self.padded([ids for ids, _, _ in sources])
        target_in, target_lengths = self.padded([[BOS_ID] + h.ids[:-1] for h in hyps])
        _, att = self.model(source, target_in)
        encoder, decoder, cross = (
            a.float().cpu().numpy().astype(np.float64) for a in (att.encoder, att.decoder, att.cross)
        )
        out = []
        for b, (h, (_, tokens, unknown)) in enumerate(zip(hyps, sources)):
            S, T = int(lengths[b]), int(target_lengths[b])
            cross_b = cross[b, :, :, :T, :S]
            out.append(
                TransformerTranslation(
                    source_tokens=list(tokens),
                    target_tokens=[self.target_tokenizer.id_to_token(i) for i in h.ids],
                    text=self.detokenize(h.ids),
                    attention=cross_b[self.model.config.alignment_index].mean(axis=0),
                    token_log_probs=np.array(h.log_probs),
                    log_prob=h.log_prob,
                    score=h.score(self.length_alpha),
                    beams=[],
                    unknown=list(unknown),
                    encoder_attention=encoder[b, :, :, :S, :S],
                    decoder_attention=decoder[b, :, :, :T, :T],
                    cross_attention=cross_b,
                )
            )
        return out

    def beam(self, source: torch.Tensor, beam_size: int) -> list[Hypothesis]:
        """This model's beam search over one source [1, S] (SubwordTranslator.translate calls it)."""
        return beam_search(self.model, source, beam_size, self.length_alpha)

    def greedy(self, source: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """This model's batched greedy search (SubwordTranslator.translate_batch calls it)."""
        return greedy_search(self.model, source, lengths)

    def save(self, folder: Path, extra_config: dict | None = None, fp16: bool = True) -> None:
        """model.safetensors (fp16 halves the file; loading casts back to fp32), config.json, tokenizer.json."""
        self.save_weights(folder, extra_config, fp16)
        self.source_tokenizer.save(str(folder / "tokenizer.json"))


FILES = ("model.safetensors", "config.json", "tokenizer.json")


def load_transformer(folder: Path | str | None = None, device: torch.device | None = None) -> TransformerTranslator:
    """The bundled English -> German Transformer (assets/translator/transformer), rebuilt from its config.json."""
    folder = Path(folder) if folder else ASSETS
    fix = (
        "Restore it with `git checkout -- assets/translator/transformer` or retrain with "
        "`python -m training.train_transformer` (its MODEL_CARD.md has the exact command)."
    )
    for name in FILES:
        if not (folder / name).exists():
            raise FileNotFoundError(f"Transformer file {folder / name} is missing. {fix}")
    try:
        saved = read_json(folder / "config.json")
        model = Transformer(TransformerConfig(**saved["model"]))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        model.load_state_dict({k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()})
    except Exception as err:  # corrupt or mismatched files: name the folder and the fix
        raise RuntimeError(
            f"Could not load the Transformer from {folder} ({type(err).__name__}: {err}). {fix}"
        ) from err
    for i, token in enumerate((PAD, UNK, BOS, EOS)):
        if tokenizer.token_to_id(token) != i:
            raise RuntimeError(f"The tokenizer in {folder} does not have {token} at id {i}. {fix}")
    return TransformerTranslator(model, tokenizer, device, saved.get("length_alpha", 0.6))
