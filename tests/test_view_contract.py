"""The view contract and the model runtime: a view is one module plus one entry in
explorer.VIEWS; every model is loaded once (one MiniLM for three views); explorer/ has no torch."""

from __future__ import annotations

import inspect
import subprocess
import sys

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
