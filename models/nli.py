"""Natural language inference with the decomposable attention model (Parikh et al. 2016)
over word vectors from the bundled all-MiniLM-L6-v2: premise + hypothesis -> label, and the
soft alignments that led there.

    nli = load_nli()
    n = nli.infer("A man plays a guitar.", "A person makes music.")
    n.label, n.probs, n.alignment, n.premise_to_hypothesis, n.hypothesis_to_premise

The model is in models/decomposable_attention.py, the word vectors in models/nli_words.py,
training in training/train_nli.py.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from .decomposable_attention import DAOutput, DecomposableAttention
from .device import pick_device
from .minilm import load_minilm
from .nli_words import GloVeWords, MiniLMWords, Prepared
from .text import read_json, write_json

LABELS = ("entailment", "neutral", "contradiction")
ASSETS = Path(__file__).resolve().parent.parent / "assets" / "nli"
SHARD_BYTES = 12 * 2**20  # weight files stay far below the 25 MB a file may have in the repository


@dataclass
class NLIConfig:
    representation: str = "minilm"  # "minilm" (the bundled encoder) | "glove" (a user's GloVe file)
    minilm_layer: int = 6  # which MiniLM layer's states are the word vectors; -1 = static input embeddings
    train_layers: int = 2  # the top layers below minilm_layer fine-tuned with the head (stored here); 0 = frozen
    layer_mix: bool = False  # a learned mix of the hidden states 0..minilm_layer (frozen encoder) instead of one layer
    max_pieces: int = 128  # per sentence; MiniLM reads up to 512, but alignments wider than this are unreadable
    hidden: int = 200  # width of F, G, H (the paper's 200)
    dropout: float = 0.2
    intra_attention: bool = False  # the paper's optional intra-sentence attention (MiniLM states already see context)
    intra_max_distance: int = 10
    glove_dim: int = 0  # GloVe only: vector size, rows kept, hashed OOV vectors, projection size
    glove_words: int = 0
    glove_oov: int = 100
    projection: int = 200
    glove_concat: bool = (
        False  # MiniLM only: [MiniLM state; projected GloVe vector] per word (rows in glove_vocab.json)
    )
    glove_projection: int = 100
    labels: list[str] = field(default_factory=lambda: list(LABELS))


class NLIModel(nn.Module):
    """Word vectors (words) -> DecomposableAttention (da) -> label scores."""

    def __init__(self, config: NLIConfig, words: MiniLMWords | GloVeWords):
        super().__init__()
        self.config, self.words = config, words
        self.da = DecomposableAttention(
            words.dim,
            config.hidden,
            len(config.labels),
            config.dropout,
            config.intra_attention,
            config.intra_max_distance,
        )

    def forward(
        self, premises: list[Prepared], hypotheses: list[Prepared]
    ) -> tuple[DAOutput, torch.Tensor, torch.Tensor]:
        A, mask_a = self.words.collate(premises)  # (B, m, D), (B, m)
        B, mask_b = self.words.collate(hypotheses)  # (B, n, D), (B, n)
        return self.da(A, B, mask_a, mask_b), mask_a, mask_b


@dataclass
class NLIResult:
    """One premise/hypothesis pair through the model (m premise words, n hypothesis words,
    word 0 of each being the NULL word "∅").

    label: str, the most probable of labels; probs: dict label -> probability (sum 1)
    premise_tokens: list[str] (m); hypothesis_tokens: list[str] (n)
    alignment: float[m, n], raw scores e_ij = F(a_i)ᵀ F(b_j)
    premise_to_hypothesis: float[m, n], softmax over j (beta weights), rows sum to 1
    hypothesis_to_premise: float[n, m], softmax over i (alpha weights), rows sum to 1
    premise_contribution: float[m], drop of the chosen label's score when v1_i leaves the sum v1
    hypothesis_contribution: float[n], the same for v2_j
    logits: float[len(labels)], H([v1; v2])
    """

    label: str
    probs: dict[str, float]
    premise_tokens: list[str]
    hypothesis_tokens: list[str]
    alignment: np.ndarray
    premise_to_hypothesis: np.ndarray
    hypothesis_to_premise: np.ndarray
    premise_contribution: np.ndarray
    hypothesis_contribution: np.ndarray
    logits: np.ndarray
    labels: list[str]


class NLI:
    """The trained model with its tokenization: text pairs -> labels and alignments."""

    def __init__(self, model: NLIModel, device: torch.device | None = None):
        self.device = device or pick_device()
        self.model = model.to(self.device).eval()
        self.config, self.labels = model.config, list(model.config.labels)

    def count_pieces(self, text: str) -> int:
        """Word pieces of `text` as the model reads it ([CLS] and [SEP] included)."""
        return self.model.words.count_pieces(text)

    def read(self, text: str, what: str, max_pieces: int | None = None) -> Prepared:
        """One sentence tokenized once and checked against `max_pieces` (default: the model's own
        limit); infer_many takes the result as it is, so a request is never tokenized twice."""
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{what} is empty: type a sentence.")
        limit = max_pieces or self.config.max_pieces
        prepared = self.model.words.split([text.strip()], truncate=False)[0]
        pieces = len(prepared.ids) if self.config.representation == "minilm" else len(prepared.words)
        if pieces > limit:
            raise ValueError(f"{what} has {pieces} word pieces; the limit is {limit}.")
        return prepared

    def infer(self, premise: str, hypothesis: str) -> NLIResult:
        return self.infer_many([(premise, hypothesis)])[0]

    @torch.no_grad()
    def infer_many(self, pairs: list[tuple]) -> list[NLIResult]:
        """Several (premise, hypothesis) pairs in one padded forward; each result is cut to its
        own words, so it equals infer() on that pair alone (up to float rounding). A sentence is
        a str, or what read() gave for it."""

        def as_read(sentence, what):
            return sentence if isinstance(sentence, Prepared) else self.read(sentence, what)

        split = [s for p, h in pairs for s in (as_read(p, "The premise"), as_read(h, "The hypothesis"))]
        prepared = self.model.words.run_frozen(split, keep_on_device=True)
        premises, hypotheses = prepared[0::2], prepared[1::2]
        out, mask_a, mask_b = self.model(premises, hypotheses)
        probs = torch.softmax(out.logits, -1)  # (B, C)
        labels = probs.argmax(-1)
        drop_a, drop_b = self.model.da.leave_one_out(out, mask_a, mask_b, labels)
        al = out.attended
        # Only the finished results leave the device: one copy per tensor for the whole batch.
        e, p2h, h2p, probs, labels, logits, drop_a, drop_b = (
            t.cpu().numpy()
            for t in (
                al.e,
                al.premise_to_hypothesis,
                al.hypothesis_to_premise,
                probs,
                labels,
                out.logits,
                drop_a,
                drop_b,
            )
        )
        results = []
        for b, (p, h) in enumerate(zip(premises, hypotheses)):
            m, n = len(p.words), len(h.words)
            results.append(
                NLIResult(
                    label=self.labels[int(labels[b])],
                    probs={l: float(x) for l, x in zip(self.labels, probs[b])},
                    premise_tokens=p.words,
                    hypothesis_tokens=h.words,
                    alignment=e[b, :m, :n],
                    premise_to_hypothesis=p2h[b, :m, :n],
                    hypothesis_to_premise=h2p[b, :n, :m],
                    premise_contribution=drop_a[b, :m],
                    hypothesis_contribution=drop_b[b, :n],
                    logits=logits[b],
                    labels=self.labels,
                )
            )
        return results

    @torch.no_grad()
    def predict(self, pairs: list, batch_size: int = 64) -> np.ndarray:
        """Label probabilities float[len(pairs), len(labels)] of pairs with .premise, .hypothesis
        (training.nli_data.Pair); each distinct sentence is encoded once."""
        self.model.eval()
        sentences = list(dict.fromkeys(s for p in pairs for s in (p.premise, p.hypothesis)))
        prepared = dict(zip(sentences, self.model.words.prepare(sentences, batch_size)))
        probs = []
        for k in range(0, len(pairs), batch_size):
            chunk = pairs[k : k + batch_size]
            out, _, _ = self.model([prepared[p.premise] for p in chunk], [prepared[p.hypothesis] for p in chunk])
            probs.append(torch.softmax(out.logits, -1).cpu())
        return torch.cat(probs).numpy()

    def accuracy(self, pairs: list, batch_size: int = 64) -> float:
        gold = np.array([self.labels.index(p.label) for p in pairs])
        return float((self.predict(pairs, batch_size).argmax(1) == gold).mean())

    def save(self, folder: Path, extra: dict | None = None, half: bool = True) -> None:
        """model.safetensors (head + fine-tuned MiniLM layers or GloVe rows; more than SHARD_BYTES
        go on in model-2.safetensors, ...) and config.json. half: floats stored as fp16 (loading
        turns them back into fp32), so six fine-tuned layers fit in files far below 25 MB."""
        folder.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        shards: list[dict[str, torch.Tensor]] = [{}]
        for k, v in state.items():
            if shards[-1] and sum(t.nbytes for t in shards[-1].values()) + v.nbytes > SHARD_BYTES:
                shards.append({})
            shards[-1][k] = v
        files = ["model.safetensors"] + [f"model-{i}.safetensors" for i in range(2, len(shards) + 1)]
        for old in folder.glob("model-*.safetensors"):  # a smaller model must not leave shards behind
            old.unlink()
        for name, shard in zip(files, shards):
            save_file(shard, str(folder / name))
        info = {"model": asdict(self.config), "weight_files": files, **(extra or {})}
        if isinstance(self.model.words, GloVeWords):
            info["glove_vocab"] = self.model.words.vocab
        elif self.config.glove_concat:
            write_json(self.model.words.glove_vocab, folder / "glove_vocab.json")
        write_json(info, folder / "config.json")


def build_minilm_words(
    config: NLIConfig, minilm=None, glove_vocab: list[str] | None = None, glove_table: torch.Tensor | None = None
):
    """The bundled MiniLM (models.minilm.MiniLM: the app's shared copy, or a fresh one) as word
    vectors for `config`: its frozen layers are read as they are, its top layers are copies
    (glove_concat: glove_vocab and its table [len(glove_vocab), glove_dim]; zeros when loading)."""
    minilm = minilm or load_minilm()
    if glove_vocab and glove_table is None:
        glove_table = torch.zeros(len(glove_vocab), config.glove_dim)  # the saved rows are loaded into it
    return MiniLMWords(
        minilm.bert,
        minilm.tokenizer,
        config.minilm_layer,
        config.train_layers,
        config.max_pieces,
        glove_vocab if config.glove_concat else None,
        glove_table,
        config.glove_projection,
        config.layer_mix,
    )


def load_nli(folder: Path | str | None = None, device: torch.device | None = None, minilm=None) -> NLI:
    """The bundled decomposable-attention NLI model (assets/nli), rebuilt from its config.json;
    its frozen MiniLM layers are `minilm`'s (the app's shared copy) or a copy of its own."""
    folder = Path(folder) if folder else ASSETS
    missing = lambda name: FileNotFoundError(  # noqa: E731
        f"NLI model file {folder / name} is missing. Restore it with `git checkout -- assets/nli` "
        "or retrain with `python -m training.train_nli`."
    )
    for name in ("model.safetensors", "config.json"):
        if not (folder / name).exists():
            raise missing(name)
    try:
        info = read_json(folder / "config.json")
        config = NLIConfig(**info["model"])
        files = info.get("weight_files", ["model.safetensors"])
        glove_vocab = read_json(folder / "glove_vocab.json") if config.glove_concat else None
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise RuntimeError(
            f"{folder / 'config.json'} is not an NLI config ({err}). Restore it with `git checkout -- assets/nli`."
        ) from err
    except FileNotFoundError:
        raise missing("glove_vocab.json") from None
    for name in files:
        if not (folder / name).exists():
            raise missing(name)
    try:
        state = {}
        for name in files:
            state.update(load_file(str(folder / name)))
        if config.representation == "glove":
            words = GloVeWords(
                info["glove_vocab"],
                torch.zeros(config.glove_words, config.glove_dim),
                config.glove_oov,
                config.projection,
            )
        else:
            words = build_minilm_words(config, minilm, glove_vocab=glove_vocab)
        model = NLIModel(config, words)
        model.load_state_dict(state)
    except Exception as err:  # corrupt file or wrong shapes: name the file and the fix
        raise RuntimeError(
            f"Could not load {folder / 'model.safetensors'} ({err}). Restore it with "
            "`git checkout -- assets/nli` or retrain with `python -m training.train_nli`."
        ) from err
    return NLI(model, device or (minilm.device if minilm is not None else None))
