"""Word vectors a_i, b_j for the decomposable attention model: from the bundled
all-MiniLM-L6-v2 (its static word-piece embeddings, or its layer states with the top layers
fine-tuned, optionally with a static GloVe vector concatenated to each word's state), or from
user-supplied GloVe vectors alone (the paper's setting).

Each encoder works in two steps, so training can cache the expensive frozen part once:
    prepare(texts) -> one Prepared per sentence (no gradient; the frozen lower layers run here)
    collate(prepared) -> (vectors float[B, W, D], mask bool[B, W])  (the trainable part)
Word 0 of every sentence is the NULL word of Parikh et al. (2016): a word with no
counterpart can align to it. For MiniLM it is the [CLS] state; for GloVe a learned vector.

A *word* for MiniLM is what its pre-tokenizer splits off: text between spaces, with every
punctuation mark on its own ("don't" -> don ' t). Its vector is the mean of its word pieces'
vectors ("unfriended" = un ##fr ##iend ##ed), so the alignment is between whole words.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import dataclass

import torch
import torch.nn as nn

from .text import treebank_tokenize

NULL_WORD = "∅"


@dataclass
class Prepared:
    """One sentence after the frozen part.

    words: list[str], display form of each word, words[0] == NULL_WORD
    ids: int64[P], MiniLM word-piece ids incl. [CLS], [SEP] (GloVe: table rows of words[1:])
    word_of_piece: int64[P], 0 for [CLS], w >= 1 for a piece of words[w], -1 for [SEP]
    hidden: float32[P, D] or None, the output of the frozen lower layers; with a layer mix
        float32[P, L + 1, D], every hidden state (embeddings, then each layer), or [W, L + 1, D]
        when `pooled` (training caches them per word: pooling and mixing are both linear, so
        mixing pooled states equals pooling mixed ones)
    glove_ids: int64[W] or None (MiniLM + GloVe only): table row of each word, -1 unknown, -2 for NULL
    """

    words: list[str]
    ids: torch.Tensor
    word_of_piece: torch.Tensor
    hidden: torch.Tensor | None = None
    glove_ids: torch.Tensor | None = None
    pooled: bool = False


def pad(rows: list[torch.Tensor], value: float = 0.0) -> torch.Tensor:
    """B tensors [T_b, ...] -> [B, max T_b, ...] filled with value."""
    return nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=value)


def pool_words(
    states: torch.Tensor, word_of_piece: torch.Tensor, n_words: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean of each word's pieces: states [B, P, D], word_of_piece [B, P] -> [B, W, D], mask [B, W]."""
    W = int(n_words.max())
    onehot = (word_of_piece[:, None, :] == torch.arange(W, device=states.device)[None, :, None]).to(
        states.dtype
    )  # (B, W, P)
    pooled = torch.bmm(onehot / onehot.sum(-1, keepdim=True).clamp(min=1), states)  # (B, W, D)
    return pooled, torch.arange(W, device=states.device)[None, :] < n_words[:, None]


def run_layers(layers, hidden: torch.Tensor, mask: torch.Tensor, every: bool = False) -> torch.Tensor:
    """BERT layers over hidden [B, P, D] with an additive key mask (works for eager and SDPA attention);
    every=True returns each state on the way, the input first: [B, P, len(layers) + 1, D]."""
    additive = (~mask)[:, None, None, :].to(hidden.dtype) * torch.finfo(hidden.dtype).min  # (B, 1, 1, P)
    states = [hidden]
    for layer in layers:
        hidden = layer(hidden, attention_mask=additive)
        states.append(hidden)
    return torch.stack(states, dim=2) if every else hidden


class MiniLMWords(nn.Module):
    """MiniLM states at `layer` (0 = after the embeddings, 6 = last) with the top `train_layers`
    of those layers trainable; layer = -1 means the static word-piece input embeddings.

    Only the trainable layers are registered as submodules, so the state dict (and the
    bundled weights file) holds them and not the frozen rest, which comes from the package.

    layer_mix=True (the encoder frozen, train_layers 0): a word's vector is sum_l s_l h_l over the
    hidden states h_0 (embeddings) .. h_layer, with s = softmax of learned weights (ELMo's scalar
    mix). The top layer of a sentence-embedding model is tuned for its mean; lower layers keep
    more of each word itself, and the alignment compares words.

    With glove_vocab and glove_table [V, d] each word's vector is [MiniLM state; P g_w]: g_w
    is its frozen GloVe vector (looked up lower-cased; a learned vector for unknown words and for
    NULL) and P a trained d -> glove_projection layer. Static vectors keep apart the words
    that contextual states blur ("guitar" / "violin"); the table rows are a buffer, saved.
    """

    def __init__(
        self,
        bert,
        tokenizer,
        layer: int = 6,
        train_layers: int = 0,
        max_pieces: int = 128,
        glove_vocab: list[str] | None = None,
        glove_table: torch.Tensor | None = None,
        glove_projection: int = 100,
        layer_mix: bool = False,
    ):
        super().__init__()
        if not -1 <= layer <= len(bert.encoder.layer) or not 0 <= train_layers <= max(layer, 0):
            raise ValueError(
                f"layer {layer} / train_layers {train_layers} do not fit a {len(bert.encoder.layer)}-layer encoder"
            )
        if layer_mix and (train_layers or layer < 1):
            raise ValueError("a layer mix reads a frozen encoder: train_layers 0 and layer >= 1")
        self._bert = [bert.eval()]  # a list hides it from the state dict
        for p in bert.parameters():
            p.requires_grad_(False)
        self.tokenizer, self.layer, self.max_pieces = tokenizer, layer, max_pieces
        # The fine-tuned top layers are copies: the encoder itself is shared with the other
        # views (models/runtime.py), and loading this model's weights must not change it.
        self.upper = nn.ModuleList(
            copy.deepcopy(block) for block in (bert.encoder.layer[layer - train_layers : layer] if layer > 0 else [])
        )
        for p in self.upper.parameters():
            p.requires_grad_(True)
        self.layer_mix = layer_mix
        if layer_mix:
            self.layer_weights = nn.Parameter(torch.zeros(layer + 1))  # equal shares to start
        self.dim = bert.config.hidden_size
        self.glove_vocab: list[str] = []
        if glove_vocab:
            self.use_glove(glove_vocab, glove_table, glove_projection)

    def use_glove(self, vocab: list[str], table: torch.Tensor, projection: int = 100) -> None:
        """Concatenate P g_w to every word's state from now on (table [len(vocab), d], frozen)."""
        self.glove_vocab = list(vocab)
        self.glove_row = {w: i for i, w in enumerate(self.glove_vocab)}
        self.register_buffer("glove_table", table.float().to(self.device))  # (V, d)
        self.glove_null = nn.Parameter(torch.zeros(table.shape[1], device=self.device))
        self.glove_unknown = nn.Parameter(torch.zeros(table.shape[1], device=self.device))
        self.glove_project = nn.Linear(table.shape[1], projection).to(self.device)
        self.dim = self._bert[0].config.hidden_size + projection

    def glove_ids(self, words: list[str]) -> torch.Tensor:
        """Rows of words[1:] in the GloVe table (-1 when absent), -2 for the NULL word words[0]."""
        return torch.tensor([-2] + [self.glove_row.get(w.lower(), -1) for w in words[1:]])

    def count_pieces(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)

    def split(self, texts: list[str], truncate: bool = True) -> list[Prepared]:
        """Word pieces and words, [CLS] first; longer sentences keep their first max_pieces - 1
        pieces + [SEP] (truncate=False keeps them whole: the caller checks the length)."""
        out = []
        for text, enc in zip(texts, self.tokenizer.encode_batch(texts)):
            ids, word_ids, offsets = enc.ids, enc.word_ids, enc.offsets
            if truncate and len(ids) > self.max_pieces:
                ids, word_ids, offsets = (
                    ids[: self.max_pieces - 1] + ids[-1:],
                    word_ids[: self.max_pieces - 1] + [None],
                    offsets[: self.max_pieces - 1],
                )
            # word_ids restart per sentence; renumber 1.. in order so word 0 is the NULL word ([CLS])
            order = list(dict.fromkeys(w for w in word_ids if w is not None))
            number = {w: k + 1 for k, w in enumerate(order)}
            wop = [0] + [number[w] if w is not None else -1 for w in word_ids[1:]]
            spans: dict[int, list[int]] = {}
            for w, (start, end) in zip(wop, offsets):
                if w > 0:
                    spans.setdefault(w, [start, end])[1] = end
            words = [NULL_WORD] + [text[spans[k][0] : spans[k][1]] for k in range(1, len(order) + 1)]
            out.append(
                Prepared(
                    words,
                    torch.tensor(ids),
                    torch.tensor(wop),
                    glove_ids=self.glove_ids(words) if self.glove_vocab else None,
                )
            )
        return out

    def frozen_layers(self):
        bert = self._bert[0]
        return bert.encoder.layer[: self.layer - len(self.upper)]

    @torch.no_grad()
    def prepare(self, texts: list[str], batch_size: int = 64, keep_on_device: bool = False) -> list[Prepared]:
        """Tokenize and run the frozen embeddings + lower layers once (sorted by length: little padding).

        The states go to the CPU, where training caches them for every epoch; inference, which
        uses them at once, passes keep_on_device=True and saves the round trip.
        """
        return self.run_frozen(self.split(texts), batch_size, keep_on_device)

    @torch.no_grad()
    def run_frozen(
        self, prepared: list[Prepared], batch_size: int = 64, keep_on_device: bool = False
    ) -> list[Prepared]:
        """The frozen embeddings + lower layers over sentences already split (fills .hidden)."""
        if self.layer < 0:
            return prepared
        bert, device = self._bert[0], self.device
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i].ids))
        for k in range(0, len(order), batch_size):
            chunk = [prepared[i] for i in order[k : k + batch_size]]
            ids = pad([p.ids for p in chunk]).to(device)  # (B, P)
            mask = pad([torch.ones(len(p.ids), dtype=torch.bool) for p in chunk], False).to(device)
            # (B, P, D), or every state (B, P, L + 1, D) for a layer mix
            hidden = run_layers(self.frozen_layers(), bert.embeddings(input_ids=ids), mask, every=self.layer_mix)
            for p, h in zip(chunk, hidden):
                p.hidden = h[: len(p.ids)].float() if keep_on_device else h[: len(p.ids)].float().cpu()
        return prepared

    @staticmethod
    def pool_every_state(p: Prepared) -> None:
        """p.hidden [P, L + 1, D] -> per word [W, L + 1, D] (p.pooled): what training caches for a
        layer mix, fewer rows for the same vectors (mixing and pooling are both linear)."""
        P, L, D = p.hidden.shape
        W = int(p.word_of_piece.max()) + 1
        pooled, _ = pool_words(p.hidden.reshape(1, P, L * D), p.word_of_piece[None], torch.tensor([W]))
        p.hidden, p.pooled = pooled[0].reshape(W, L, D), True

    @property
    def device(self) -> torch.device:
        return self._bert[0].embeddings.word_embeddings.weight.device

    def collate(self, prepared: list[Prepared]) -> tuple[torch.Tensor, torch.Tensor]:
        device = self.device
        mask = pad([torch.ones(len(p.ids), dtype=torch.bool) for p in prepared], False).to(device)  # (B, P)
        wop = pad([p.word_of_piece for p in prepared], -1).to(device)  # (B, P)
        n_words = wop.max(dim=1).values + 1  # (B,) words incl. NULL; the cache keeps no word strings
        if self.layer_mix:
            # .float(): training keeps its cache of frozen states in fp16 (half the memory)
            every = pad([p.hidden for p in prepared]).to(device).float()  # (B, P or W, L + 1, D)
            mixed = (every * torch.softmax(self.layer_weights, 0)[:, None]).sum(2)  # (B, P or W, D)
            if len({p.pooled for p in prepared}) > 1:
                raise ValueError("a batch mixes sentences pooled per word with sentences per piece")
            if prepared[0].pooled:
                vectors = mixed  # (B, W, D)
                word_mask = torch.arange(mixed.shape[1], device=device)[None, :] < n_words[:, None]
            else:
                vectors, word_mask = pool_words(mixed, wop, n_words)  # (B, W, D), (B, W)
        else:
            if self.layer < 0:
                states = self._bert[0].embeddings.word_embeddings(pad([p.ids for p in prepared]).to(device))
            else:
                states = run_layers(self.upper, pad([p.hidden for p in prepared]).to(device).float(), mask)
            vectors, word_mask = pool_words(states, wop, n_words)  # (B, W, D), (B, W)
        if not self.glove_vocab:
            return vectors, word_mask
        rows = pad([p.glove_ids for p in prepared], -1).to(device)[:, : vectors.shape[1]]  # (B, W)
        g = self.glove_table[rows.clamp(min=0)]  # (B, W, d)
        g = torch.where((rows == -1)[..., None], self.glove_unknown, g)
        g = torch.where((rows == -2)[..., None], self.glove_null, g)
        return torch.cat([vectors, self.glove_project(g)], dim=-1), word_mask  # (B, W, D + projection)

    def train(self, mode: bool = True):
        super().train(mode)
        self._bert[0].eval()  # the frozen part never uses dropout; self.upper follows `mode`
        for layer in self.upper:
            layer.train(mode)
        return self

    def _apply(self, fn, recurse=True):  # .to(device) moves the hidden encoder too
        self._bert[0]._apply(fn)
        return super()._apply(fn, recurse)


class GloVeWords(nn.Module):
    """The paper's input: fixed GloVe vectors of Penn-Treebank tokens, projected to `projection`
    dims; a word not in the table falls into one of n_oov fixed random vectors by a hash.

    The table rows (only the words seen in training) are a buffer, saved with the model.
    """

    def __init__(self, vocab: list[str], table: torch.Tensor, n_oov: int = 100, projection: int = 200, seed: int = 0):
        super().__init__()
        self.vocab = list(vocab)
        self.row = {w: i for i, w in enumerate(self.vocab)}
        oov = torch.randn(n_oov, table.shape[1], generator=torch.Generator().manual_seed(seed))
        self.register_buffer("table", torch.cat([table.float(), oov]))  # (V + n_oov, d)
        self.n_oov = n_oov
        self.null = nn.Parameter(torch.zeros(table.shape[1]))
        self.project = nn.Linear(table.shape[1], projection)
        self.dim = projection

    def lookup(self, word: str) -> int:
        for form in (word, word.lower()):
            if form in self.row:
                return self.row[form]
        return len(self.vocab) + zlib.crc32(word.lower().encode("utf-8")) % self.n_oov

    def count_pieces(self, text: str) -> int:
        return len(treebank_tokenize(text)) + 1

    def prepare(self, texts: list[str], batch_size: int = 0, keep_on_device: bool = False) -> list[Prepared]:
        """Table rows of each sentence's tokens (on the CPU: collate moves them; there is no forward to keep)."""
        out = []
        for text in texts:
            tokens = treebank_tokenize(text)
            out.append(
                Prepared(
                    [NULL_WORD] + tokens,
                    torch.tensor([self.lookup(t) for t in tokens], dtype=torch.long),
                    torch.arange(len(tokens) + 1),
                )
            )
        return out

    def split(self, texts: list[str], truncate: bool = True) -> list[Prepared]:
        return self.prepare(texts)

    def run_frozen(self, prepared: list[Prepared], batch_size: int = 0, keep_on_device: bool = False) -> list[Prepared]:
        return prepared  # a table lookup has no frozen forward

    def collate(self, prepared: list[Prepared]) -> tuple[torch.Tensor, torch.Tensor]:
        device = self.table.device
        vectors = [torch.cat([self.null[None], self.table[p.ids.to(device)]]) for p in prepared]  # (W, d) each
        n_words = torch.tensor([len(v) for v in vectors], device=device)
        mask = torch.arange(int(n_words.max()), device=device)[None, :] < n_words[:, None]
        return self.project(pad(vectors)), mask  # (B, W, projection)


def read_glove(path, keep: set[str]) -> tuple[list[str], torch.Tensor]:
    """Rows of a GloVe text file ("word v1 ... vd" per line) for the words in `keep` (or their lower case)."""
    wanted = keep | {w.lower() for w in keep}
    vocab, rows, dim = [], [], None
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split(" ")
            # Some GloVe files have words with spaces (840B): the vector is the last `dim` fields.
            if dim is None:
                dim = len(parts) - 1
            word = " ".join(parts[: len(parts) - dim])
            if word in wanted and len(parts) > dim:
                vocab.append(word)
                rows.append(torch.tensor([float(x) for x in parts[-dim:]]))
    if not rows:
        raise ValueError(f"{path}: none of the {len(keep)} training words has a vector; is it a GloVe text file?")
    return vocab, torch.stack(rows)
