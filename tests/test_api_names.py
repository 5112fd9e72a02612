"""Issue 24: every named endpoint's API parameters carry the names of the inputs they fill
(`client.predict(text=..., k=8, api_name="/tag")`), never Gradio's `param_0`, `param_1`, ...
The app is built in this process (no model is loaded to build it) and its API description read."""

from __future__ import annotations

import re

import pytest

from explorer import VIEWS
from models.runtime import MODELS, Runtime

from conftest import REPO

# The sections' endpoints and the parameters the README's API section names (their order: the
# view's inputs a section reads, then its own).
SECTIONS = {
    "/batch_cost": ["text"],
    "/self_attention_inside": ["text", "text_b", "layer", "head", "query"],
    "/self_attention_positions": ["text", "layer", "head", "seed"],
    "/self_attention_rollout": ["text", "text_b"],
    "/self_attention_ablation": ["text", "text_b", "layer", "head", "switch_off", "listed"],
    "/self_attention_head_importance": ["text", "text_b"],
    "/nli_saliency": ["premise", "hypothesis"],
    "/tag_saliency": ["text", "index"],
    "/transformer_history": ["epoch", "caption"],
}
DECLARED = {f"/{v.api_name}" for v in VIEWS} | {f"/{s.api_name}" for v in VIEWS for s in v.sections}


@pytest.fixture(scope="module", params=["batching", "no batching"])
def parameters(request) -> dict[str, list[str]]:
    """Each named endpoint's parameter names, with dynamic batching on (the default) and off:
    the batched endpoints (/tag, /nli, /translate) have a function of their own."""
    import app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLORER_BATCHING", "1" if request.param == "batching" else "0")
        demo = app.build_demo(VIEWS, runtime=Runtime(MODELS))
    named = demo.get_api_info()["named_endpoints"]
    return {name: [p["parameter_name"] for p in endpoint["parameters"]] for name, endpoint in named.items()}


def test_no_endpoint_has_unnamed_parameters(parameters):
    unnamed = {name: names for name, names in parameters.items() if any(re.fullmatch(r"param_\d+", n) for n in names)}
    assert not unnamed


@pytest.mark.parametrize("view", VIEWS, ids=[v.api_name for v in VIEWS])
def test_a_views_endpoint_has_its_inputs_by_name(parameters, view):
    assert parameters[f"/{view.api_name}"] == list(view.inputs)


def test_the_tag_endpoint_takes_text_and_k(parameters):
    assert parameters["/tag"] == ["text", "k"]


@pytest.mark.parametrize("api_name", SECTIONS)
def test_a_sections_endpoint_has_its_inputs_by_name(parameters, api_name):
    assert parameters[api_name] == SECTIONS[api_name]


def test_every_named_endpoint_is_a_view_or_a_section_or_its_export(parameters):
    """Nothing is wired by hand beside the contract: each name is declared (or its Export), and
    the only other one is the bench's undocumented /ping (not in the API description)."""
    assert {name for name in SECTIONS} <= DECLARED
    assert {name.removesuffix("_export") for name in parameters} <= DECLARED
    assert DECLARED <= set(parameters)


def described() -> dict[str, list[str]]:
    """The README's API section: `/name` (a, b: what b is, ...) -> [a, b, ...]."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("The app exposes one API endpoint") : readme.index("## Models")]
    return {
        name: [m.group(1) for piece in re.split(r",\s+", listed) if (m := re.match(r"(\w+)(?::|$)", piece.strip()))]
        for name, listed in re.findall(r"`(/\w+)`\s+\(([^)]*)\)", section)
    }


def test_the_readme_names_each_endpoints_parameters(parameters):
    readme = described()
    assert {name for name, names in parameters.items() if names} <= set(readme)
    assert {name: parameters.get(name) for name in readme} == readme
