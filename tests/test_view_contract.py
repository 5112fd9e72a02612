"""The view contract and the model runtime: a view is one module plus one entry in
explorer.VIEWS; every model is loaded once (one MiniLM for three views); explorer/ has no torch."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import VIEWS
from models.runtime import MODELS

from conftest import REPO, free_port


def test_a_sixth_view_is_one_module_and_one_list_entry():
    """A trivial view added to the list gets its tab and its endpoint, next to the other five."""
    from gradio_client import Client

    import app
    from models.runtime import Runtime

    import echo_view

    demo = app.build_demo(VIEWS + (echo_view.VIEW,), runtime=Runtime(MODELS))
    titles = [v.title for v in VIEWS] + ["Echo"]
    tabs = [b.label for b in demo.blocks.values() if type(b).__name__ == "Tab" and b.label in titles]  # not sub-tabs
    assert tabs == titles
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, share=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict("a new view", api_name="/echo") == "A NEW VIEW"
        named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert {f"/{v.api_name}" for v in VIEWS} | {"/echo"} <= set(named)
    finally:
        demo.close()


def test_a_section_is_one_declaration_in_a_views_sections():
    """A trivial section added to the Tags view's sections (and nowhere else) gets its endpoint,
    its Export endpoint, its deep-link parameters, a link that opens it, and its warm-up."""
    import dataclasses

    import echo_section
    from gradio_client import Client

    import app
    from explorer.views import tagging
    from explorer.web import deep_links
    from explorer.web.serving import warm_up
    from models.runtime import Runtime

    tags = dataclasses.replace(tagging.VIEW, sections=(*tagging.VIEW.sections, echo_section.SECTION))
    views = tuple(tags if v is tagging.VIEW else v for v in VIEWS)
    runtime = Runtime(MODELS)
    demo = app.build_demo(views, runtime=runtime)
    painter = demo.painters["tag"]
    assert {"times", "section"} <= set(painter.params) | {p.name for p in painter.declared}
    link = deep_links.parse({"view": "tag", "text": "hi there", "times": "3"}, painter.links)
    assert link.values == {"text": "hi there", "times": 3} and not link.notices
    answer = painter.render(link, *[c.value for c in painter.inputs])
    echoed = next(v for c, v in answer.items() if getattr(c, "elem_id", None) == "echo-section-output")
    assert echoed == "hi there hi there hi there"  # the link filled the section's input and opened it
    opened = deep_links.parse({"view": "tag", "section": "echo_section"}, painter.links)
    assert opened.values == {"section": "echo_section"}
    bad = deep_links.parse({"view": "tag", "section": "nope", "times": "9"}, painter.links)
    assert len(bad.notices) == 2 and "echo_section" in bad.notices[0] and "from 1 to 5" in bad.notices[1]
    warm_up([(view, paint) for view, paint in demo.first_paints if view is tags])
    assert runtime.cache.lookup(runtime.key({}, echo_section.show, "warm", 3))[0]  # the example was computed
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, share=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        assert client.predict(text="a b", times=2, api_name="/echo_section") == (
            "2 times",
            "a b a b",
            None,
        )  # no files yet
        named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert [p["parameter_name"] for p in named["/echo_section"]["parameters"]] == ["text", "times"]
        assert "/echo_section_export" in named
        (written,) = client.predict(api_name="/echo_section_export")  # the files of this session's last answer
        assert Path(written).read_text(encoding="utf-8") == "a b a b"
    finally:
        demo.close()


@pytest.mark.parametrize("view", VIEWS, ids=[v.api_name for v in VIEWS])
def test_every_view_declares_what_it_needs(view):
    assert len({v.api_name for v in VIEWS}) == len(VIEWS)
    assert set(view.models.values()) <= set(MODELS), view.models
    parameters = inspect.signature(view.handler).parameters
    assert list(parameters)[: len(view.inputs)] == list(view.inputs)  # the endpoint's inputs, in order
    assert set(view.models) <= set(parameters)  # and the models, by keyword
    assert view.examples and all(set(e) == set(view.inputs) for e in view.examples)
    module, function = view.floor.split(":")
    assert module == "models.floors" and function


SECTIONS = [(view, section) for view in VIEWS for section in view.sections]


@pytest.mark.parametrize("view, section", SECTIONS, ids=[s.api_name for _, s in SECTIONS])
def test_every_section_declares_what_it_needs(view, section):
    """What the generic wiring relies on: the handler's parameters are the endpoint's (the view's
    inputs it reads, then its own), its models are the runtime's, its examples fill every
    parameter, and its floor is a function of models.floors."""
    names = [s.api_name for _, s in SECTIONS] + [v.api_name for v in VIEWS]
    assert len(set(names)) == len(names)
    assert section.api_name.startswith(view.api_name) and not section.api_name.endswith("_export")
    assert set(section.models.values()) <= set(MODELS), section.models
    parameters = inspect.signature(section.handler).parameters
    assert list(parameters)[: len(section.parameters)] == list(section.parameters)
    assert set(section.models) <= set(parameters)
    assert all(set(e) == set(section.parameters) for e in section.examples)
    assert section.examples or "result" in section.reads  # only a section drawing the view's answer has none
    if section.floor:
        module, function = section.floor.split(":")
        assert module == "models.floors" and function
    assert {p.input for p in section.links} <= set(section.inputs)


def test_every_section_is_placed_in_its_tab_and_finds_what_it_reads():
    import app
    from models.runtime import Runtime

    demo = app.build_demo(VIEWS, runtime=Runtime(MODELS))
    for view, paint in demo.first_paints:
        placed = {extra.name for extra in paint.linked if extra.name}
        assert placed == {s.api_name for s in view.sections}, view.api_name


def test_explorer_imports_no_torch():
    for path in (REPO / "explorer").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import torch" not in text and "from torch" not in text, path
    code = "import sys, app; bad = [m for m in ('torch', 'transformers', 'nltk') if m in sys.modules]; print(bad)"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


@pytest.mark.bundled
def test_the_bundled_minilm_is_loaded_once_and_shared():
    """The encoder of the Self-attention view, the tagger's word vectors and the NLI model's
    frozen encoder are one BertModel; loading NLI's weights (its layer mix and head) leaves it as shipped."""
    from safetensors import safe_open

    from models.minilm import bundled_dir
    from models.runtime import Runtime

    runtime = Runtime(MODELS)
    encoder, tagger, nli = runtime.get("encoder"), runtime.get("tagger"), runtime.get("nli")
    bert = runtime.get("minilm").bert
    assert encoder.model is bert and tagger.pieces.encoder is bert and nli.model.words._bert[0] is bert
    assert runtime.loaded() == ["encoder", "minilm", "nli", "tagger"]
    assert nli.model.words.layer_mix and len(nli.model.words.upper) == 0  # no fine-tuned copies to keep apart
    name = "encoder.layer.5.attention.self.query.weight"
    with safe_open(str(bundled_dir() / "model.safetensors"), "pt") as f:
        shipped = f.get_tensor(name)
    assert (bert.state_dict()[name] == shipped).all()


@pytest.mark.bundled
def test_the_shapes_views_read_before_loading_are_the_loaded_models():
    """The sliders' ranges and deep-link limits come from models.runtime's shapes (read without
    loading weights): they must be the bundled models' own."""
    from dataclasses import asdict

    from models.runtime import Runtime

    runtime = Runtime(MODELS)
    encoder = runtime.get("encoder")
    assert MODELS["encoder"].shape == {"layers": encoder.layers, "heads": encoder.heads}
    config = asdict(runtime.get("translator/transformer").model.config)
    assert {k: config[k] for k in MODELS["translator/transformer"].shape} == MODELS["translator/transformer"].shape
    gru = runtime.get("translator/attention").model.config
    assert MODELS["translator/attention"].shape["max_length_ratio"] == gru.max_length_ratio
