"""Every section of every view (explorer.contract.Section: the analyses inside self-attention, the
saliency sections, and those to come), each against its floor, in this process, the way
bench/views.py measures a view: the handler's work (analysis, figures and the JSON of its plots)
against the bare forwards it needs (its Section.floor in models/floors.py), on its own standard
input of TOKENS tokens (Section.sample). A section without a sample (bertviz draws the view's last
answer; /batch_cost is itself a timing) has no entry. Keyed by the section's API name:

    self_attention_inside    the embeddings and layers 1..l   self_attention_positions  the encoder on 4 rows
    self_attention_rollout   one encoder forward              self_attention_ablation   the pair on 2 x 2 rows
    self_attention_head_importance  the pair and a copy per head, each copy joining at its head's layer
                     (models.ablation.climbing_batch; also held to HEAD_IMPORTANCE_S absolute)
    nli_saliency  the NLI forward + attend / compare / aggregate forward and backward on 34 rows
    tag_saliency  the tagger's forward + its BiLSTM forward and backward on 34 rows
"""

from __future__ import annotations

from functools import partial

from explorer import VIEWS

from .timing import interleaved
from .views import plots_json, resolve, view_models

TOKENS = 20  # word pieces (tokens for the tagger) of each standard input, as the issue asks


def cases(runtime, views=VIEWS) -> dict:
    """{section api name: (handler, floor, inputs)}, each input of about TOKENS tokens."""
    out = {}
    for view in views:
        for section in view.sections:
            if section.sample is None or not section.floor or not section.cached:
                continue
            models = view_models(section, runtime)
            inputs = section.sample(TOKENS, models)
            handler = partial(section.handler, *section.api_args(inputs), **models)
            out[section.api_name] = (handler, resolve(section.floor)(models, inputs), inputs)
    return out


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
