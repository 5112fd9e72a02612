"""The analyses inside self-attention and the saliency sections (issue 14), each against its
floor, in this process, the way bench/views.py measures a view: the handler's work (analysis,
figures and the JSON of its plots) against the bare forwards it needs (models/floors.py).

    inside_head   the embeddings and layers 1..l   positions   the encoder on 4 rows
    rollout       one encoder forward              ablation    the pair on 2 x 2 rows
    head_importance  the pair and a copy per head, each copy joining at its head's layer
                     (models.ablation.climbing_batch; also held to HEAD_IMPORTANCE_S absolute)
    nli_saliency  the NLI forward + attend / compare / aggregate forward and backward on 34 rows
    tag_saliency  the tagger's forward + its BiLSTM forward and backward on 34 rows
"""

from __future__ import annotations

from functools import partial

from explorer.core.samples import sample_hypothesis, sample_text
from explorer.views import saliency_section
from explorer.views.self_attention import ablation_section, inside_head, positions, rollout_section
from models import floors

from .timing import interleaved
from .views import plots_json

TOKENS = 20  # word pieces (tokens for the tagger) of each standard input, as the issue asks


def cases(runtime) -> dict:
    """{name: (handler, floor, inputs)}, each input of about TOKENS tokens."""
    encoder, nli, tagger = runtime.get("encoder"), runtime.get("nli"), runtime.get("tagger")

    def pieces(text):
        return len(encoder.encode(text)["input_ids"][0])

    def nli_pieces(text):
        return len(nli.read(text, "The sample", 10_000).ids)

    text, text_b = sample_text(pieces, TOKENS), sample_hypothesis(pieces, TOKENS)
    premise, hypothesis = sample_text(nli_pieces, TOKENS), sample_hypothesis(nli_pieces, TOKENS)
    tagged = sample_text(lambda t: len(tagger.tokenize(t)), TOKENS)
    enc_models = {"encoder": encoder}
    pair = {"text": text, "text_b": text_b}
    return {
        "inside_head": (
            partial(inside_head.show, text, "", 3, 6, 2, encoder=encoder),
            floors.inside_head(enc_models, {"text": text, "layer": 3}),
            {"text": text, "layer": 3, "head": 6, "query": 2},
        ),
        "positions": (
            partial(positions.show, text, 1, 1, 0, encoder=encoder),
            floors.positions(enc_models, {"text": text}),
            {"text": text, "layer": 1, "head": 1, "seed": 0},
        ),
        "rollout": (
            partial(rollout_section.show, text, "", encoder=encoder),
            floors.encoder(enc_models, {"text": text}),
            {"text": text},
        ),
        "ablation": (
            partial(ablation_section.show, text, text_b, ablation_section.MODES[1], 2, 1, "", encoder=encoder),
            floors.ablation(enc_models, pair),
            {**pair, "switch_off": ablation_section.MODES[1], "layer": 2},
        ),
        "head_importance": (
            partial(ablation_section.show_importance, text, text_b, encoder=encoder),
            floors.head_importance(enc_models, pair),
            pair,
        ),
        "nli_saliency": (
            partial(saliency_section.show_nli, premise, hypothesis, nli=nli),
            floors.nli_saliency({"nli": nli}, {"premise": premise, "hypothesis": hypothesis}),
            {"premise": premise, "hypothesis": hypothesis},
        ),
        "tag_saliency": (
            partial(saliency_section.show_tag, tagged, 1, tagger=tagger),
            floors.tag_saliency({"tagger": tagger}, {"text": tagged}),
            {"text": tagged, "index": 1},
        ),
    }


def measure(runtime, repeats: int, warmup: int = 1) -> tuple[dict, dict]:
    """({"<name>/20": {"analysis_ms", "floor_ms", "overhead"}}, the inputs by name)."""
    figures, inputs = {}, {}
    for name, (handler, floor, given) in cases(runtime).items():
        t = interleaved({"floor": floor, "analysis": lambda h=handler: plots_json(h())}, repeats, warmup)
        figures[f"{name}/{TOKENS}"] = {
            "analysis_ms": t["analysis"] * 1000,
            "floor_ms": t["floor"] * 1000,
            "overhead": t["analysis"] / t["floor"],
        }
        inputs[f"{name}/{TOKENS}"] = given
    return figures, inputs
