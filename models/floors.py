"""The floor of each view: the bare forward of its model(s) on tensors prepared beforehand,
already on the device (no tokenizing, no search bookkeeping, no figures). `python -m bench`
divides a view's handler time by its floor; 1 would mean the view costs nothing beyond the model.

Each function takes the view's models (by the view's keywords) and one request's inputs (by
name), prepares once, and returns the function to time. A view names its floor in its View.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import torch

from .nli_words import pad, run_layers
from .translator import BOS_ID, greedy_search


def _tagger_forward(tagger, sentences: list[list[str]]) -> Callable[[], object]:
    x = tagger.inputs(sentences)
    pieces = tagger.pieces.piece_batch(sentences) if tagger.pieces is not None else None

    @torch.no_grad()
    def floor():
        inputs = replace(x, pieces=tagger.pieces.vectors(pieces)) if pieces is not None else x
        return tagger.model(inputs)

    return floor


def tagger(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """MiniLM word vectors + the BiLSTM tagger, on word ids, characters and word pieces prepared on the device."""
    return _tagger_forward(models["tagger"], [models["tagger"].tokenize(inputs["text"])])


def batch(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The tagger's forward on the whole batch (one sentence per line)."""
    lines = [line for line in inputs["text"].splitlines() if line.strip()]
    return _tagger_forward(models["tagger"], [models["tagger"].tokenize(line) for line in lines])


def translation(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """Each translator's decoding without the search: encode the source, then one decoder
    step and its scores over the vocabulary per target token, fed the tokens its greedy
    search wrote (the work greedy search cannot skip; no argmax, no bookkeeping)."""
    prepared = []
    for translator in (models["translator"], models["baseline"]):
        ids, _, _ = translator.encode_source(inputs["text"])
        source = torch.tensor([ids], device=translator.device)  # (1, S)
        lengths = torch.tensor([len(ids)])  # CPU, for pack_padded_sequence
        written = greedy_search(translator.model, source, lengths)[0].ids
        fed = torch.tensor([BOS_ID] + written[:-1], device=translator.device)[:, None]  # (T, 1): y_{t-1} per step
        prepared.append((translator.model, source, lengths, fed))

    @torch.no_grad()
    def floor():
        for model, source, lengths, fed in prepared:
            memory = model.encode(source, lengths)
            s = model.decoder.start(memory)
            for y in fed:
                features, s, _ = model.decoder.step(y, s, memory)
                model.decoder.logits(features)  # (1, V)

    return floor


def encoder(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The encoder's forward on word-piece ids already on the device (no attention weights asked for)."""
    enc = models["encoder"]
    encoded = enc.encode(inputs["text"])
    encoded.pop("offset_mapping")
    tensors = {k: v.to(enc.device) for k, v in encoded.items()}

    @torch.no_grad()
    def floor():
        return enc.model(**tensors)

    return floor


def nli(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """MiniLM (frozen lower layers, fine-tuned upper ones) + attend / compare / aggregate on word-piece ids on the device."""
    model = models["nli"].model
    words = model.words
    p, h = words.split([inputs["premise"], inputs["hypothesis"]])
    ids = pad([p.ids, h.ids]).to(words.device)  # (2, P)
    mask = pad([torch.ones(len(p.ids), dtype=torch.bool), torch.ones(len(h.ids), dtype=torch.bool)], False).to(
        words.device
    )
    bert = words._bert[0]

    @torch.no_grad()
    def floor():
        hidden = run_layers(words.frozen_layers(), bert.embeddings(input_ids=ids), mask)  # (2, P, D)
        p.hidden, h.hidden = hidden[0, : len(p.ids)], hidden[1, : len(h.ids)]
        return model([p], [h])

    return floor


def embeddings(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The one-hot x E product and the scores of every vocabulary piece against each word, on ids
    prepared on the device (no tokenizing, no sorting into neighbours, no figures)."""
    table = models["embeddings"]
    ids = table.split([w for w in inputs["text"].split() if w])
    onehot = torch.zeros(len(ids), table.vocabulary, device=table.device)  # (N, V)
    for n, word_ids in enumerate(ids):
        onehot[n, word_ids] = 1.0 / len(word_ids)

    @torch.no_grad()
    def floor():
        embedded = onehot @ table.table  # (N, d)
        return (table.table @ embedded.T) / table.norms[:, None]  # (V, N)

    return floor
