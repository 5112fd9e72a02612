"""The floor of each view: the bare forward of its model(s) on tensors prepared beforehand,
already on the device (no tokenizing, no search bookkeeping, no figures). `python -m bench`
divides a view's handler time by its floor; 1 would mean the view costs nothing beyond the model.

Each function takes the view's models (by the view's keywords) and one request's inputs (by
name), prepares once, and returns the function to time. A view names its floor in its View.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from .ablation import climbing_batch, encode_pair
from .nli_words import pad, run_layers
from .transformer import greedy_search as transformer_greedy
from .translator import BOS_ID, greedy_search

SYNTAX_HEADS = Path(__file__).resolve().parent.parent / "assets" / "analysis" / "syntax_heads.json"


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
    """MiniLM (frozen lower layers, fine-tuned upper ones or a mix of every state) + attend / compare /
    aggregate on word-piece ids on the device."""
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
        # (2, P, D), or every state (2, P, L + 1, D) for a layer mix
        hidden = run_layers(words.frozen_layers(), bert.embeddings(input_ids=ids), mask, every=words.layer_mix)
        p.hidden, h.hidden = hidden[0, : len(p.ids)], hidden[1, : len(h.ids)]
        return model([p], [h])

    return floor


# -- the analyses inside self-attention and the saliency sections (issue 14) ----------------------
def _bare_forward(bert, batch: dict) -> Callable[[], object]:
    @torch.no_grad()
    def floor():
        return bert(**batch)

    return floor


def encoder_rows(models: Mapping[str, Any], inputs: Mapping[str, Any], rows: int) -> Callable[[], object]:
    """The encoder's forward on `rows` copies of the sentence's ids (the shuffle experiment reads 4)."""
    enc = models["encoder"]
    encoded = enc.encode(inputs["text"])
    encoded.pop("offset_mapping")
    return _bare_forward(enc.model, {k: v.to(enc.device).repeat(rows, 1) for k, v in encoded.items()})


def positions(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """Original and shuffled ids, each with and without position embeddings: 4 rows."""
    return encoder_rows(models, inputs, 4)


def sentence_pair(models: Mapping[str, Any], inputs: Mapping[str, Any], ablations: int) -> Callable[[], object]:
    """The encoder on the two sentences (padded together) repeated for `ablations` head masks."""
    enc = models["encoder"]
    pair = encode_pair(enc.tokenizer, inputs["text"], inputs["text_b"], enc.device)
    return _bare_forward(enc.model, {k: v.repeat(ablations, 1) for k, v in pair.items()})


def ablation(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The pair with every head on and with the chosen heads off: 2 x 2 rows."""
    return sentence_pair(models, inputs, 2)


def head_importance(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The pair unablated and once per head through the encoder's layers, the copies for layer l's
    heads joining at layer l (models.ablation.climbing_batch without the head masks)."""
    enc = models["encoder"]
    pair = encode_pair(enc.tokenizer, inputs["text"], inputs["text_b"], enc.device)

    @torch.no_grad()
    def floor():
        return climbing_batch(enc.model, pair)

    return floor


def inside_head(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The embeddings and the encoder's layers up to the chosen one (1-based inputs["layer"])."""
    enc = models["encoder"]
    encoded = enc.encode(inputs["text"])
    ids = encoded["input_ids"].to(enc.device)
    types = encoded["token_type_ids"].to(enc.device)

    @torch.no_grad()
    def floor():
        hidden = enc.model.embeddings(input_ids=ids, token_type_ids=types)
        for block in enc.model.encoder.layer[: int(inputs["layer"])]:
            hidden = block(hidden)
        return hidden

    return floor


def nli_saliency(models: Mapping[str, Any], inputs: Mapping[str, Any], steps: int = 32) -> Callable[[], object]:
    """The NLI forward, then attend / compare / aggregate forward and backward on the steps + 2
    path points (the vectors scaled, as integrated gradients needs them)."""
    model = models["nli"].model
    forward = nli(models, inputs)  # MiniLM + attend / compare / aggregate on the pair
    p, h = model.words.split([inputs["premise"], inputs["hypothesis"]])
    with torch.no_grad():
        model.words.run_frozen([p, h], keep_on_device=True)
        A, mask_a = model.words.collate([p])  # (1, m, D): the word vectors, prepared beforehand
        B, mask_b = model.words.collate([h])
    scale = torch.linspace(0, 1, steps + 2, device=A.device)[:, None, None]

    def floor():
        with torch.no_grad():
            forward()
        a, b = (scale * A).requires_grad_(True), (scale * B).requires_grad_(True)  # (S, m, D), (S, n, D)
        S = a.shape[0]
        logits = model.da(a, b, mask_a.expand(S, -1), mask_b.expand(S, -1)).logits[:, 0]
        return torch.autograd.grad(logits.sum(), [a, b])

    return floor


def tag_saliency(models: Mapping[str, Any], inputs: Mapping[str, Any], steps: int = 32) -> Callable[[], object]:
    """The tagger's forward (MiniLM vectors + BiLSTM), then the BiLSTM forward and backward on the
    steps + 2 path points."""
    tagger = models["tagger"]
    forward = _tagger_forward(tagger, [tagger.tokenize(inputs["text"])])
    sentence = [tagger.tokenize(inputs["text"])]
    x = tagger.inputs(sentence)
    with torch.no_grad():
        X = tagger.model.embed(x)  # (1, n, D)
    scale = torch.linspace(0, 1, steps + 2, device=X.device)[:, None, None]

    def floor():
        forward()
        batch = (scale * X).requires_grad_(True)
        with torch.backends.cudnn.flags(enabled=False):
            states = tagger.model.encode(batch, x.lengths.repeat(batch.shape[0]))
            return torch.autograd.grad(tagger.model.out(states[:, 0])[:, 0].sum(), [batch])

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


def transformer(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The Transformer's decoding without the search, then the forward that returns its weights:
    encode the source, then per target token the decoder over y_<=t and its scores for the last
    position, fed the tokens greedy search wrote (this model has no key-value cache, so step t
    reruns the decoder over the whole prefix: the work its search cannot skip), and one
    teacher-forced forward with every layer's attention weights."""
    model = models["transformer"].model
    ids, _, _ = models["transformer"].encode_source(inputs["text"])
    device = next(model.parameters()).device
    source = torch.tensor([ids], device=device)  # (1, S)
    written = transformer_greedy(model, source, torch.tensor([len(ids)]))[0].ids
    target_in = torch.tensor([[BOS_ID] + written], device=device)  # (1, T + 1)

    @torch.no_grad()
    def floor():
        memory, source_allowed, _ = model.encode(source)
        for t in range(1, target_in.shape[1]):
            features, _, _ = model.decode(target_in[:, :t], memory, source_allowed)
            model.logits(features[:, -1])  # (1, V)
        return model(source, target_in[:, :-1])  # logits and the three attentions

    return floor


def _split_words_forward(enc, sentences: list[list[str]]) -> list[dict]:
    out = []
    for words in sentences:
        encoded = enc.tokenizer(words, is_split_into_words=True, return_tensors="pt")
        out.append({k: v.to(enc.device) for k, v in encoded.items()})
    return out


def syntax_heads(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The encoder's forward on the two sentences the section draws a head on: the EWT dev example
    (its words, from the bundled analysis) and the user's sentence, both as pre-split words."""
    enc = models["encoder"]
    examples = json.loads(SYNTAX_HEADS.read_text(encoding="utf-8"))["examples"]
    prepared = _split_words_forward(
        enc, [examples[int(inputs["example"])]["words"], enc.sentence_words(inputs["text"])]
    )

    @torch.no_grad()
    def floor():
        return [enc.model(**tensors) for tensors in prepared]

    return floor


def contexts(models: Mapping[str, Any], inputs: Mapping[str, Any]) -> Callable[[], object]:
    """The encoder's forward on the padded batch of the sentences a word is read in (the user's
    lines; corpus mode reads the same forward on the bundled sentences)."""
    enc = models["encoder"]
    lines = [line for line in inputs["sentences"].splitlines() if line.strip()]
    encoded = enc.tokenizer(lines, return_tensors="pt", padding=True)
    tensors = {k: v.to(enc.device) for k, v in encoded.items()}

    @torch.no_grad()
    def floor():
        return enc.model(**tensors, output_hidden_states=True)

    return floor
