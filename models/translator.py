"""A GRU encoder-decoder that translates English to German, with additive attention.

Bahdanau, Cho & Bengio 2015, "Neural Machine Translation by Jointly Learning to Align and
Translate" (sections 3.1-3.2 and appendix A): a bidirectional GRU encodes the source into
annotations h_s = [→h_s; ←h_s]; at every step t the decoder scores each annotation against its
previous state, e_ts = vᵀ tanh(W [s_{t-1}; h_s]), turns the scores into weights
α_ts = softmax_s(e_ts), and reads its own context c_t = Σ_s α_ts h_s.
The `no_attention` variant is the encoder-decoder of Cho et al. 2014 ("Learning Phrase
Representations using RNN Encoder-Decoder"): one fixed context C = [→h_S; ←h_1] for every step.
Both variants share everything else, so their difference is the attention alone.
Training: `python -m training.train_translator --variant attention|no_attention`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .decoding import BOS, BOS_ID, EOS, EOS_ID, PAD, PAD_ID, UNK, Hypothesis, SubwordTranslator, Translation
from .device import pick_device
from .masking import sequence_mask
from .text import read_json
from .transformer import TransformerTranslator, load_transformer

ASSETS = Path(__file__).resolve().parent.parent / "assets" / "translator"
VARIANTS = ("attention", "no_attention")


@dataclass
class TranslatorConfig:
    n_source: int  # English subword vocabulary, specials included
    n_target: int  # German subword vocabulary
    attention: bool = True  # False: the baseline, whose decoder reads only the fixed context C
    emb_dim: int = 256  # also the readout size: the output layer is tied to the target embedding
    enc_hidden: int = 256  # per direction, so annotations h_s have 2 * enc_hidden dims
    dec_hidden: int = 256  # the bundled translators' size (training/train_translator.py)
    attn_dim: int = 256  # width of the tanh layer inside the additive score
    dropout: float = 0.3
    max_length_ratio: float = 2.0  # decoding stops after ratio * len(source) + 10 tokens


@dataclass
class Memory:
    """What the encoder hands the decoder for a batch of B sources of up to S tokens."""

    states: torch.Tensor  # (B, S, 2He) annotations h_s
    keys: torch.Tensor | None  # (B, S, A) W_h h_s, computed once because it does not change with t
    mask: torch.Tensor  # (B, S) bool, True at real source tokens
    context: torch.Tensor  # (B, 2He) the fixed C = [→h_S; ←h_1]

    def repeat(self, k: int) -> Memory:
        """The same memory for k hypotheses of one sentence (beam search)."""
        keys = None if self.keys is None else self.keys.expand(k, -1, -1)
        return Memory(self.states.expand(k, -1, -1), keys, self.mask.expand(k, -1), self.context.expand(k, -1))


class Encoder(nn.Module):
    """Bidirectional GRU over packed sources: annotations [B, S, 2He] and C [B, 2He]."""

    def __init__(self, c: TranslatorConfig):
        super().__init__()
        self.embedding = nn.Embedding(c.n_source, c.emb_dim, padding_idx=PAD_ID)
        self.gru = nn.GRU(c.emb_dim, c.enc_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(c.dropout)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        embedded = self.dropout(self.embedding(source))  # (B, S, E)
        # Packed, so the backward direction starts at each sentence's own last token, not in its padding.
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        states, final = self.gru(packed)  # final (2, B, He), already back in input order
        states, _ = pad_packed_sequence(states, batch_first=True, total_length=source.shape[1])  # (B, S, 2He)
        return states, torch.cat([final[0], final[1]], dim=-1)  # C = [→h_S; ←h_1]  (B, 2He)


class AdditiveAttention(nn.Module):
    """e_ts = vᵀ tanh(W_s s_{t-1} + W_h h_s) (= vᵀ tanh(W [s_{t-1}; h_s]) with W = [W_s W_h]);
    α_t = softmax over real source positions; c_t = Σ_s α_ts h_s. Returns c_t [B, 2He], α_t [B, S]."""

    def __init__(self, c: TranslatorConfig):
        super().__init__()
        self.W_s = nn.Linear(c.dec_hidden, c.attn_dim, bias=False)
        self.W_h = nn.Linear(2 * c.enc_hidden, c.attn_dim)
        self.v = nn.Linear(c.attn_dim, 1, bias=False)

    def forward(self, s_prev: torch.Tensor, memory: Memory) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.v(torch.tanh(memory.keys + self.W_s(s_prev)[:, None, :])).squeeze(-1)  # (B, S)
        scores = scores.masked_fill(~memory.mask, float("-inf"))  # padding gets weight exactly 0
        alpha = torch.softmax(scores, dim=-1)  # (B, S), rows sum to 1
        context = torch.bmm(alpha[:, None, :], memory.states).squeeze(1)  # (B, 2He)
        return context, alpha


class Decoder(nn.Module):
    """One GRU step s_t = GRU([E y_{t-1}; c_t], s_{t-1}), then a readout tied to the target embedding."""

    def __init__(self, c: TranslatorConfig):
        super().__init__()
        self.embedding = nn.Embedding(c.n_target, c.emb_dim, padding_idx=PAD_ID)
        self.attention = AdditiveAttention(c) if c.attention else None
        self.init = nn.Linear(2 * c.enc_hidden, c.dec_hidden)
        self.gru = nn.GRUCell(c.emb_dim + 2 * c.enc_hidden, c.dec_hidden)
        # Bahdanau's "deep output": the word is predicted from s_t, c_t and the previous word.
        self.readout = nn.Linear(c.dec_hidden + 2 * c.enc_hidden + c.emb_dim, c.emb_dim)
        self.out_bias = nn.Parameter(torch.zeros(c.n_target))
        self.dropout = nn.Dropout(c.dropout)

    def start(self, memory: Memory) -> torch.Tensor:
        """s_0 = tanh(W_init C)  (B, Hd), as in Bahdanau et al. (they use ←h_1 only)."""
        return torch.tanh(self.init(memory.context))

    def step(self, y_prev: torch.Tensor, s_prev: torch.Tensor, memory: Memory):
        """One step for B rows: returns features for the readout [B, Hd + 2He + E], s_t, α_t (or None)."""
        embedded = self.dropout(self.embedding(y_prev))  # (B, E)
        if self.attention is not None:
            context, alpha = self.attention(s_prev, memory)  # (B, 2He), (B, S)
        else:
            context, alpha = memory.context, None  # the bottleneck: the same C at every step
        s = self.gru(torch.cat([embedded, context], dim=-1), s_prev)  # (B, Hd)
        return torch.cat([s, context, embedded], dim=-1), s, alpha

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Scores over the target vocabulary [..., V] from readout features [..., Hd + 2He + E]."""
        readout = torch.tanh(self.readout(self.dropout(features)))
        return F.linear(self.dropout(readout), self.embedding.weight, self.out_bias)


class Seq2Seq(nn.Module):
    def __init__(self, config: TranslatorConfig):
        super().__init__()
        self.config = config
        self.encoder = Encoder(config)
        self.decoder = Decoder(config)

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> Memory:
        states, context = self.encoder(source, lengths)
        keys = self.decoder.attention.W_h(states) if self.decoder.attention is not None else None
        return Memory(states, keys, sequence_mask(lengths, source.shape[1]).to(source.device), context)

    def forward(self, source: torch.Tensor, lengths: torch.Tensor, target_in: torch.Tensor):
        """Teacher forcing: logits [B, T, V] for target_in = <s> y_1 ... y_{T-1}, and α [B, T, S] (or None)."""
        memory = self.encode(source, lengths)
        s = self.decoder.start(memory)
        features, alphas = [], []
        for t in range(target_in.shape[1]):  # the recurrence: s_t needs s_{t-1}
            f, s, alpha = self.decoder.step(target_in[:, t], s, memory)
            features.append(f)
            alphas.append(alpha)
        # The output layer needs no recurrence, so it runs once over all steps (one large matmul).
        logits = self.decoder.logits(torch.stack(features, dim=1))  # (B, T, V)
        return logits, (torch.stack(alphas, dim=1) if alphas[0] is not None else None)


# -- search ---------------------------------------------------------------------------
@torch.no_grad()
def greedy_search(model: Seq2Seq, source: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
    """argmax y_t at every step, for a batch of B sources; stops each row at EOS.

    Every step's choices stay on the model's device; the host learns only whether all rows
    are done (one bool per step) and reads the outputs once, at the end.
    """
    memory = model.encode(source, lengths)
    B, device = source.shape[0], source.device
    max_len = int(model.config.max_length_ratio * int(lengths.max()) + 10)
    limits = (model.config.max_length_ratio * lengths.float() + 10).long()  # (B,) CPU: tokens allowed per row
    s = model.decoder.start(memory)
    y = torch.full((B,), BOS_ID, dtype=torch.long, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    limits_on_device = limits.to(device)
    ids, log_probs, alphas = [], [], []
    for t in range(max_len):
        features, s, alpha = model.decoder.step(y, s, memory)
        best, y = torch.log_softmax(model.decoder.logits(features), dim=-1).max(dim=-1)  # (B,), (B,)
        ids.append(y), log_probs.append(best)
        if alpha is not None:
            alphas.append(alpha)  # (B, S)
        done |= (y == EOS_ID) | (t + 1 >= limits_on_device)
        if bool(done.all()):
            break
    ids_np = torch.stack(ids, dim=1).cpu().numpy()  # (B, T)
    log_probs_np = torch.stack(log_probs, dim=1).cpu().numpy()  # (B, T)
    alphas_np = torch.stack(alphas, dim=1).cpu().numpy() if alphas else None  # (B, T, S)
    hyps = []
    for b in range(B):
        ends = np.flatnonzero(ids_np[b] == EOS_ID)
        n = min(int(ends[0]) + 1 if len(ends) else ids_np.shape[1], int(limits[b]))  # through EOS, or cut at the limit
        attention = [alphas_np[b, t, : int(lengths[b])] for t in range(n)] if alphas_np is not None else []
        hyps.append(Hypothesis(ids_np[b, :n].tolist(), log_probs_np[b, :n].tolist(), attention))
    return hyps


@torch.no_grad()
def beam_search(model: Seq2Seq, source: torch.Tensor, beam_size: int, length_alpha: float = 0.6) -> list[Hypothesis]:
    """Keep the beam_size best partial outputs of one source [1, S]; returns finished ones, best first.

    At each step every live hypothesis is extended by every word; of the 2k best extensions, those
    among the best k that end in EOS are finished and the best k others stay live. The search ends when k are finished
    (or at the length limit, where live ones are cut off). With k = 1 this is greedy search.
    Scores and attention stay on the model's device: each step sends the host only the 2k
    candidates (which hypothesis, which word, its log p) and gets back the rows that go on.
    """
    k = beam_size
    device = source.device
    lengths = torch.tensor([source.shape[1]])
    memory = model.encode(source, lengths)
    max_len = int(model.config.max_length_ratio * source.shape[1] + 10)
    s = model.decoder.start(memory)  # (1, Hd)
    live = [Hypothesis([], [])]
    live_scores = torch.zeros(1, device=device)  # (n,) log p of each live hypothesis
    y = torch.full((1,), BOS_ID, dtype=torch.long, device=device)
    finished: list[Hypothesis] = []
    for _ in range(max_len):
        features, s, alpha = model.decoder.step(y, s, memory.repeat(len(live)))
        log_probs = torch.log_softmax(model.decoder.logits(features), dim=-1)  # (n, V)
        totals = live_scores[:, None] + log_probs  # (n, V)
        _, top = totals.view(-1).topk(min(2 * k, totals.numel()))
        V = log_probs.shape[1]
        word_log_probs = log_probs.view(-1)[top]  # (2k,)
        top, word_log_probs = top.tolist(), word_log_probs.tolist()  # the step's one trip to the host
        keep_rows, keep_ids, next_live = [], [], []
        for rank, (flat, word_log_prob) in enumerate(zip(top, word_log_probs)):
            row, word = divmod(flat, V)
            if word == EOS_ID and rank >= k:
                continue  # an EOS outside the k best would finish a hypothesis greedy search never makes
            parent = live[row]
            h = Hypothesis(
                parent.ids + [word],
                parent.log_probs + [word_log_prob],
                parent.attention + ([alpha[row]] if alpha is not None else []),
            )  # device tensors until the end
            if word == EOS_ID:
                finished.append(h)
            elif len(next_live) < k:
                next_live.append(h)
                keep_rows.append(row)
                keep_ids.append(word)
        if len(finished) >= k or not next_live:
            break
        live = next_live
        keep = torch.tensor([keep_rows, keep_ids], device=device)  # (2, n): rows that go on, their words
        s, y = s[keep[0]], keep[1]
        live_scores = totals[keep[0], keep[1]]
    else:
        finished.extend(live)  # the length limit: cut-off hypotheses still count, without EOS
    best = sorted(finished, key=lambda h: -h.score(length_alpha))[:k]
    for h in best:
        h.attention = list(torch.stack(h.attention).cpu().numpy()) if h.attention else []  # (T, S) once per hypothesis
    return best


# -- the translator: text in, tokens, text and attention out ------------------------------
class Translator(SubwordTranslator):
    """The trained model with its two BPE tokenizers: English text -> German text + alignment."""

    def __init__(
        self,
        model: Seq2Seq,
        source_tokenizer: Tokenizer,
        target_tokenizer: Tokenizer,
        device: torch.device | None = None,
        variant: str = "attention",
        length_alpha: float = 0.6,
    ):
        self.device = device or pick_device()
        self.model = model.to(self.device).eval()
        self.source_tokenizer, self.target_tokenizer = source_tokenizer, target_tokenizer
        self.variant, self.length_alpha = variant, length_alpha

    @property
    def has_attention(self) -> bool:
        return self.model.config.attention

    def _translation(self, h: Hypothesis, source_tokens: list[str], unknown: list[str]) -> Translation:
        ids = h.ids
        attention = np.stack(h.attention).astype(np.float64) if h.attention else None
        return Translation(
            source_tokens=list(source_tokens),
            target_tokens=[self.target_tokenizer.id_to_token(i) for i in ids],
            text=self.detokenize(ids),
            attention=attention,
            token_log_probs=np.array(h.log_probs),
            log_prob=h.log_prob,
            score=h.score(self.length_alpha),
            beams=[],
            unknown=list(unknown),
        )

    def beam(self, source: torch.Tensor, beam_size: int) -> list[Hypothesis]:
        """This model's beam search over one source [1, S] (SubwordTranslator.translate calls it)."""
        return beam_search(self.model, source, beam_size, self.length_alpha)

    def translations(self, hyps: list[Hypothesis], sources: list[tuple]) -> list[Translation]:
        """Each hypothesis with its source (what encode_source gave) as a Translation; α came with the search."""
        return [self._translation(h, tokens, unknown) for h, (_, tokens, unknown) in zip(hyps, sources)]

    def greedy(self, source: torch.Tensor, lengths: torch.Tensor) -> list[Hypothesis]:
        """This model's batched greedy search (SubwordTranslator.translate_batch calls it)."""
        return greedy_search(self.model, source, lengths)

    @torch.no_grad()
    def force(self, text: str, target_text: str) -> Translation:
        """Teacher forcing on a given German output: where this model's α would look while writing
        `target_text` (tokenized with its own German BPE, then "</s>") for the source `text`.

        Returns a Translation whose target is `target_text`, not this model's own choice:
        attention float[T, S] (α_ts, rows sum to 1), token_log_probs log p(y_t | y_<t, x) of each
        given token; beams = [itself]. Compares another model's output with this model's alignment.
        """
        if not self.has_attention:
            raise ValueError(f"The {self.variant} translator has no attention to force.")
        ids, tokens, unknown = self.encode_source(text)
        target_ids = self.target_tokenizer.encode(target_text).ids + [EOS_ID]
        source = torch.tensor([ids], device=self.device)  # (1, S)
        target_in = torch.tensor([[BOS_ID] + target_ids[:-1]], device=self.device)  # (1, T)
        logits, alpha = self.model(source, torch.tensor([len(ids)]), target_in)  # (1, T, V), (1, T, S)
        log_probs = torch.log_softmax(logits[0], dim=-1)[torch.arange(len(target_ids)), target_ids]  # (T,)
        h = Hypothesis(target_ids, log_probs.cpu().tolist(), list(alpha[0].cpu().numpy()))
        forced = self._translation(h, tokens, unknown)
        forced.beams = [forced]
        return forced

    # -- weights on disk ----------------------------------------------------------------
    def save(self, folder: Path, extra_config: dict | None = None, fp16: bool = True) -> None:
        """model.safetensors (fp16 halves the file; loading casts back to fp32), config.json, two tokenizers."""
        self.save_weights(folder, extra_config, fp16)
        self.source_tokenizer.save(str(folder / "tokenizer.en.json"))
        self.target_tokenizer.save(str(folder / "tokenizer.de.json"))


FILES = ("model.safetensors", "config.json", "tokenizer.en.json", "tokenizer.de.json")


def load_translator(
    variant: str = "attention", folder: Path | str | None = None, device: torch.device | None = None
) -> Translator | TransformerTranslator:
    """The bundled English -> German translator (assets/translator/<variant>), rebuilt from its config.json.

    variant "attention" | "no_attention": the GRUs of this file; "transformer": models/transformer.py.
    """
    if variant == "transformer":
        return load_transformer(folder, device)
    if variant not in VARIANTS:
        raise ValueError(f"Unknown translator variant {variant!r}; expected one of {VARIANTS + ('transformer',)}.")
    folder = Path(folder) if folder else ASSETS / variant
    fix = (
        f"Restore it with `git checkout -- assets/translator/{variant}` or retrain with "
        f"`python -m training.train_translator --variant {variant}`."
    )
    for name in FILES:
        if not (folder / name).exists():
            raise FileNotFoundError(f"Translator file {folder / name} is missing. {fix}")
    try:
        saved = read_json(folder / "config.json")
        config = TranslatorConfig(**saved["model"])
        source_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.en.json"))
        target_tokenizer = Tokenizer.from_file(str(folder / "tokenizer.de.json"))
        model = Seq2Seq(config)
        state = {k: v.float() for k, v in load_file(str(folder / "model.safetensors")).items()}
        model.load_state_dict(state)
    except Exception as err:  # corrupt or mismatched files: name the folder and the fix
        raise RuntimeError(f"Could not load the translator from {folder} ({type(err).__name__}: {err}). {fix}") from err
    for i, token in enumerate((PAD, UNK, BOS, EOS)):
        if target_tokenizer.token_to_id(token) != i or source_tokenizer.token_to_id(token) != i:
            raise RuntimeError(f"Tokenizers in {folder} do not have {token} at id {i}. {fix}")
    return Translator(model, source_tokenizer, target_tokenizer, device, variant, saved.get("length_alpha", 0.6))
