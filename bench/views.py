"""Each view's work against its floor, in this process.

view  = what the view's handler computes for one input: analyze + figures + the JSON of its
        plots (the server has to write that before it can answer); exports run only on request;
floor = the bare forward of the view's model(s) on tensors prepared beforehand, already on
        the device: no tokenizing, no search bookkeeping, no figures.
view / floor is the view's overhead; 1 would mean the view costs nothing beyond the model.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from .timing import interleaved


@dataclass
class ViewCase:
    """One view on one standard input: the three functions timed against each other."""

    view: str
    size: int  # tokens of the input (sentences for the batch)
    floor: Callable[[], object]
    run: Callable[[], object]  # the handler's work, start to end
    figures: Callable[[], object]  # the figure part alone, on a result computed once


def plots_json(figures: dict) -> int:
    """Serialize every plot spec of a view's figures dict, as the handler's ui.plot does; returns the characters."""
    from explorer import figures as fg

    return sum(len(fg.plotly_json(value)) for value in figures.values()
               if isinstance(value, dict) and "data" in value and "layout" in value)


# -- the floors: each model's forward alone, inputs prepared once -------------------------
def tagger_floor(tagger, sentences: list[list[str]]) -> Callable[[], object]:
    """MiniLM word vectors + the BiLSTM tagger, on word ids, characters and word pieces prepared on the device."""
    x = tagger.inputs(sentences)
    pieces = tagger.pieces.piece_batch(sentences) if tagger.pieces is not None else None

    @torch.no_grad()
    def floor():
        inputs = replace(x, pieces=tagger.pieces.vectors(pieces)) if pieces is not None else x
        return tagger.model(inputs)

    return floor


def translator_floor(models: list, text: str) -> Callable[[], object]:
    """Each translator's decoding without the search: encode the source, then one decoder
    step and its scores over the vocabulary per target token, fed the tokens its greedy
    search wrote (the work greedy search cannot skip; no argmax, no bookkeeping)."""
    from models.translator import BOS_ID, greedy_search

    prepared = []
    for translator in models:
        ids, _, _ = translator.encode_source(text)
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


def encoder_floor(encoder, text: str) -> Callable[[], object]:
    """The encoder's forward on word-piece ids already on the device (no attention weights asked for)."""
    enc = encoder.encode(text)
    enc.pop("offset_mapping")
    inputs = {k: v.to(encoder.device) for k, v in enc.items()}

    @torch.no_grad()
    def floor():
        return encoder.model(**inputs)

    return floor


def nli_floor(nli, premise: str, hypothesis: str) -> Callable[[], object]:
    """MiniLM (frozen lower layers, fine-tuned upper ones) + attend / compare / aggregate on word-piece ids on the device."""
    from models.nli_words import pad, run_layers

    words = nli.model.words
    p, h = words.split([premise, hypothesis])
    ids = pad([p.ids, h.ids]).to(words.device)  # (2, P)
    mask = pad([torch.ones(len(p.ids), dtype=torch.bool), torch.ones(len(h.ids), dtype=torch.bool)], False).to(words.device)
    bert = words._bert[0]

    @torch.no_grad()
    def floor():
        hidden = run_layers(words.frozen_layers(), bert.embeddings(input_ids=ids), mask)  # (2, P, D)
        p.hidden, h.hidden = hidden[0, : len(p.ids)], hidden[1, : len(h.ids)]
        return nli.model([p], [h])

    return floor


# -- the views: what each handler computes -------------------------------------------------
def cases(models: dict, inputs: dict) -> list[ViewCase]:
    """One ViewCase per view and standard input. models: registry-style names -> loaded models."""
    from explorer import batching, nli, self_attention, tagging, translation
    from explorer.limits import split_lines

    tagger, encoder, nli_model = models["tagger"], models["encoder"], models["nli"]
    translators = [models["translator/attention"], models["translator/no_attention"]]
    out: list[ViewCase] = []

    for size, ((text,), _) in inputs["batch"].items():
        def run(text=text):
            plots_json(batching.figures(batching.analyze(text, tagger)))

        result = batching.analyze(text, tagger)
        sentences = [tagger.tokenize(line) for line in split_lines(text)]
        out.append(ViewCase("batch", size, tagger_floor(tagger, sentences), run,
                            lambda result=result: plots_json(batching.figures(result))))

    for size, ((text,), _) in inputs["tags"].items():
        def run(text=text):
            plots_json(tagging.figures(tagging.analyze(text, tagger), 8))

        result = tagging.analyze(text, tagger)
        out.append(ViewCase("tags", size, tagger_floor(tagger, [tagger.tokenize(text)]), run,
                            lambda result=result: plots_json(tagging.figures(result, 8))))

    def translation_figures(r):
        bars, _ = translation.step_view(r, 0)  # the handler shows step 0 with the result
        return plots_json({**translation.figures(r), "step": bars})

    for size, ((text,), _) in inputs["translation"].items():
        def run(text=text):
            translation_figures(translation.analyze(text, 1, *translators))

        result = translation.analyze(text, 1, *translators)
        out.append(ViewCase("translation", size, translator_floor(translators, text), run,
                            lambda result=result: translation_figures(result)))

    for size, ((text,), _) in inputs["self_attention"].items():
        def run(text=text):
            plots_json(self_attention.figures(self_attention.analyze(text, encoder=encoder), 1, 1))

        result = self_attention.analyze(text, encoder=encoder)
        out.append(ViewCase("self_attention", size, encoder_floor(encoder, text), run,
                            lambda result=result: plots_json(self_attention.figures(result, 1, 1))))

    for size, ((premise, hypothesis), _) in inputs["nli"].items():
        def run(premise=premise, hypothesis=hypothesis):
            plots_json(nli.figures(nli.analyze(premise, hypothesis, nli_model)))

        result = nli.analyze(premise, hypothesis, nli_model)
        out.append(ViewCase("nli", size, nli_floor(nli_model, premise, hypothesis), run,
                            lambda result=result: plots_json(nli.figures(result))))
    return out


def measure(view_cases: list[ViewCase], repeats: int, warmup: int = 1) -> dict:
    """{"<view>/<size>": {"view_ms", "floor_ms", "figures_ms", "overhead"}}, medians of interleaved runs."""
    figures = {}
    for case in view_cases:
        t = interleaved({"floor": case.floor, "view": case.run, "figures": case.figures}, repeats, warmup)
        figures[f"{case.view}/{case.size}"] = {
            "view_ms": t["view"] * 1000,
            "floor_ms": t["floor"] * 1000,
            "figures_ms": t["figures"] * 1000,
            "overhead": t["view"] / t["floor"],
        }
    return figures
