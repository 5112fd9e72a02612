"""The mask experiment: train a small BiLSTM tagger from scratch, with and without the mask.

    from models.mask_experiment import Setting, run
    r = run(Setting(loss="masked", batching="packed", seed=0))
    r.step, r.loss, r.accuracy, r.accuracy_with_pads, r.seconds

A padded batch has cells that are not words. Two things can go wrong with them in training:
- loss="unmasked": the classic bug. PAD is one more class (id 0) and the loss is the plain mean
  over all B x T cells, so the network is also trained to predict PAD on padding, which is easy,
  and the loss it reports is lower than the loss on words. "masked" averages over real tokens
  only (models.masking.masked_cross_entropy, the formula the Batch tab teaches).
- batching="padded": the LSTM runs over the padding too; its backward direction starts inside
  the pads of every short sentence. "packed" (pack_padded_sequence) never reads a pad.
Each recorded step scores the held-out sentences twice with the same predictions: on real
tokens (`accuracy`), and with the pad cells counted as tokens whose gold tag is PAD
(`accuracy_with_pads`), the number an accuracy that forgets the mask reports.

Pure torch and numpy, no global random state: the same Setting gives the same curves (the
initial weights and the batches come from generators seeded by Setting.seed), and a server may
run it in a thread beside other requests. The data is a 1,450-sentence subset of UD English EWT
(assets/mask_experiment/ewt_subset.json, CC BY-SA 4.0; python -m training.mask_data).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .mask_setting import RECORDS, Setting, settings
from .masking import masked_cross_entropy, sequence_mask
from .text import read_json, treebank_tokenize

DATA = Path(__file__).resolve().parent.parent / "assets" / "mask_experiment" / "ewt_subset.json"
PAD, UNK = 0, 1  # word ids; PAD is also tag id 0 (the class the unmasked loss trains)


@dataclass(frozen=True)
class Corpus:
    """The subset as ids: words lower-cased, a word seen once in train is UNK (so the model
    meets UNK in training, as it will in held-out text)."""

    words: tuple[str, ...]  # id -> word (0 PAD, 1 UNK)
    tags: tuple[str, ...]  # id -> tag (0 PAD, then the 17 UPOS)
    train: tuple[tuple[np.ndarray, np.ndarray], ...]  # (word ids, tag ids) per sentence
    held_out: tuple[tuple[np.ndarray, np.ndarray], ...]

    def word_ids(self, words: list[str]) -> np.ndarray:
        index = self._index()
        return np.array([index.get(w.lower(), UNK) for w in words], dtype=np.int64)

    def _index(self) -> dict[str, int]:
        return _word_index(self.words)


@lru_cache(maxsize=4)
def _word_index(words: tuple[str, ...]) -> dict[str, int]:
    return {w: i for i, w in enumerate(words)}


@lru_cache(maxsize=1)
def corpus(path: Path = DATA) -> Corpus:
    data = read_json(path)
    counts = Counter(w.lower() for words, _ in data["train"] for w in words)
    words = ("<pad>", "<unk>", *sorted(w for w, n in counts.items() if n >= 2))
    index = _word_index(words)

    def ids(sentences):
        return tuple(
            (np.array([index.get(w.lower(), UNK) for w in ws], dtype=np.int64), np.array(ts, dtype=np.int64) + 1)
            for ws, ts in sentences
        )

    return Corpus(words, ("PAD", *data["tags"]), ids(data["train"]), ids(data["held_out"]))


class SmallTagger(nn.Module):
    """Embedding -> one BiLSTM layer -> a linear layer over PAD + the 17 tags."""

    def __init__(self, n_words: int, n_tags: int, dim: int = 48, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(n_words, dim, padding_idx=PAD)
        self.lstm = nn.LSTM(dim, hidden, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, n_tags)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor, packed: bool) -> torch.Tensor:
        """ids [B, T], lengths [B] (CPU int64) -> scores [B, T, n_tags]."""
        x = self.embed(ids)
        if packed:
            states, _ = self.lstm(pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
            states, _ = pad_packed_sequence(states, batch_first=True, total_length=ids.shape[1])  # pads: zeros
        else:
            states, _ = self.lstm(x)
        return self.out(states)

    def initialize(self, generator: torch.Generator) -> None:
        """torch's default initial weights, drawn from `generator` (not the global RNG)."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("embed"):
                    p.normal_(0.0, 1.0, generator=generator)
                    p[PAD].zero_()
                else:
                    fan = self.lstm.hidden_size if name.startswith("lstm") else p.shape[-1]
                    bound = 1.0 / fan**0.5
                    p.uniform_(-bound, bound, generator=generator)


def batch_of(sentences: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad word and tag ids to the longest sentence: ids [B, T], tags [B, T] (PAD = 0), lengths [B]."""
    lengths = torch.tensor([len(w) for w, _ in sentences], dtype=torch.int64)
    ids = torch.zeros(len(sentences), int(lengths.max()), dtype=torch.int64)
    tags = torch.zeros_like(ids)
    for b, (w, t) in enumerate(sentences):
        ids[b, : len(w)] = torch.from_numpy(w)
        tags[b, : len(t)] = torch.from_numpy(t)
    return ids, tags, lengths


def training_loss(scores: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "masked":
        return masked_cross_entropy(scores, tags, sequence_mask(lengths, scores.shape[1]))
    return F.cross_entropy(scores.flatten(0, 1), tags.flatten())  # every cell, PAD cells as class 0


def batches(corpus: Corpus, setting: Setting, generator: torch.Generator):
    """Endless training batches: each epoch a new shuffle; sort_by_length groups each run of
    50 batches' sentences by length first, then shuffles the batches' order."""
    n, size = len(corpus.train), setting.batch_size
    while True:
        order = torch.randperm(n, generator=generator).tolist()
        if setting.sort_by_length:
            pool = 50 * size
            grouped = []
            for start in range(0, n, pool):
                chunk = sorted(order[start : start + pool], key=lambda i: len(corpus.train[i][0]))
                grouped += [chunk[k : k + size] for k in range(0, len(chunk), size)]
            shuffled = torch.randperm(len(grouped), generator=generator).tolist()
            chosen = [grouped[i] for i in shuffled]
        else:
            chosen = [order[k : k + size] for k in range(0, n, size)]
        for members in chosen:
            if len(members) == size:  # a short last batch would make one step unlike the others
                yield batch_of([corpus.train[i] for i in members])


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    accuracy_with_pads: float


def evaluate(model: SmallTagger, corpus: Corpus, setting: Setting) -> Evaluation:
    """The held-out sentences in batches of the training batch size, in corpus order (their
    padding is what random batches of that size have), predicted over PAD + tags."""
    real = real_right = pads = pads_right = 0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(corpus.held_out), setting.batch_size):
            ids, tags, lengths = batch_of(list(corpus.held_out[start : start + setting.batch_size]))
            predicted = model(ids, lengths, setting.batching == "packed").argmax(-1)
            mask = sequence_mask(lengths, ids.shape[1])
            right = predicted == tags
            real += int(mask.sum())
            real_right += int((right & mask).sum())
            pads += int((~mask).sum())
            pads_right += int((right & ~mask).sum())
    model.train()
    return Evaluation(real_right / real, (real_right + pads_right) / (real + pads))


@dataclass(frozen=True, eq=False)
class Run:
    """The curves of one run (numpy arrays, one value per recorded step) and its model.

    step: the steps recorded; loss: the training loss the optimizer saw at that step
    (averaged since the previous record); accuracy, accuracy_with_pads: held-out scores
    after it; seconds: cumulative training seconds (evaluation not counted)
    stopped: "" when all steps ran, else why it stopped early (the budget)
    model: the trained tagger (None in a copy that keeps only the curves: without_model)
    """

    setting: Setting
    step: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    accuracy_with_pads: np.ndarray
    seconds: np.ndarray
    stopped: str
    model: SmallTagger | None
    corpus: Corpus

    def without_model(self) -> Run:
        """The curves alone (what an answer kept for a while needs: no weights)."""
        return replace(self, model=None)

    @property
    def seconds_per_step(self) -> float:
        return float(self.seconds[-1] / self.step[-1])

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        """Tags for every cell of these sentences padded as one batch: row b has the batch's
        longest length, its pad cells included (what the run learned to put on padding)."""
        ids, _, lengths = batch_of([(self.corpus.word_ids(s), np.zeros(len(s), dtype=np.int64)) for s in sentences])
        with torch.no_grad():
            predicted = self.model(ids, lengths, self.setting.batching == "packed").argmax(-1)
        return [[self.corpus.tags[i] for i in row] for row in predicted.tolist()]


def run(
    setting: Setting,
    budget_seconds: float | None = None,
    on_step: Callable[[int, int], None] | None = None,
    corpus_path: Path = DATA,
) -> Run:
    """Train one SmallTagger by `setting`; stop cleanly (stopped says so) once its training
    CPU seconds pass `budget_seconds` (time.thread_time of the thread that trains: the whole cost
    where torch runs one thread, as the app sets it; with more intra-op threads it counts this
    thread's share). on_step(step, steps) after each step (progress)."""
    data = corpus(corpus_path)
    generator = torch.Generator().manual_seed(setting.seed)
    model = SmallTagger(len(data.words), len(data.tags))
    model.initialize(generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=setting.learning_rate)
    every = max(1, setting.steps // RECORDS)
    curves: dict[str, list] = {"step": [], "loss": [], "accuracy": [], "accuracy_with_pads": [], "seconds": []}
    seconds, cpu_seconds, since, stopped = 0.0, 0.0, [], ""
    stream = batches(data, setting, generator)
    for step in range(1, setting.steps + 1):
        ids, tags, lengths = next(stream)
        start, cpu_start = time.perf_counter(), time.thread_time()
        scores = model(ids, lengths, setting.batching == "packed")
        loss = training_loss(scores, tags, lengths, setting.loss)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        seconds += time.perf_counter() - start
        cpu_seconds += time.thread_time() - cpu_start
        since.append(loss.item())
        if budget_seconds is not None and cpu_seconds > budget_seconds and step < setting.steps:
            stopped = f"stopped after step {step} of {setting.steps}: its budget of {budget_seconds:g} CPU s was spent"
        if step % every == 0 or step == setting.steps or stopped:
            scores_now = evaluate(model, data, setting)
            for name, value in (("step", step), ("loss", float(np.mean(since))), ("seconds", seconds),
                                ("accuracy", scores_now.accuracy),
                                ("accuracy_with_pads", scores_now.accuracy_with_pads)):  # fmt: skip
                curves[name].append(value)
            since = []
        if on_step is not None:
            on_step(step, setting.steps)
        if stopped:
            break
    model.eval()
    model.zero_grad(set_to_none=True)  # a kept run holds its weights, not the last step's gradients
    return Run(
        setting=setting,
        **{name: np.array(values) for name, values in curves.items()},
        stopped=stopped,
        model=model,
        corpus=data,
    )


class MaskExperiment:
    """The experiment as the app's runtime loads it (models.runtime.MODELS["mask_experiment"]):
    its corpus read once, runs trained on request. Always on the CPU: the model is tiny (a GPU
    would spend its time launching kernels), and the CPU keeps runs bit-for-bit repeatable."""

    def __init__(self, corpus_path: Path = DATA):
        self.corpus_path = corpus_path
        self.corpus = corpus(corpus_path)
        self.device = torch.device("cpu")

    @staticmethod
    def tokenize(text: str) -> list[str]:
        """A line the way UD EWT (and so the subset) is tokenized."""
        return treebank_tokenize(text)

    def run(self, setting: Setting, budget_seconds: float | None = None, on_step=None) -> Run:
        return run(setting, budget_seconds, on_step, self.corpus_path)

    def runs(self, **shared) -> tuple[Run, ...]:
        """The three runs of models.mask_setting.settings(**shared), in order."""
        return tuple(self.run(setting) for setting in settings(**shared))


def load_experiment(device=None) -> MaskExperiment:
    """The runtime's loader (`device` is not used: see MaskExperiment)."""
    return MaskExperiment()
