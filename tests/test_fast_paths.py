"""explorer/web/gradio_internals.py: the fast paths are on only for the Gradio version they were
written for and without EXPLORER_FAST_PATHS=0; off, stock Gradio serves the same page and the
same answers, and the app's console says so in one line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import gradio
import pytest
from gradio_client import Client

from explorer.web import gradio_internals

from conftest import REPO, answer, app_log, running_app

OFF_LINE = "Gradio fast paths off"
# Every view's endpoint with its default inputs (the tab's first paint).
ENDPOINTS = ("/tag", "/translate", "/self_attention", "/nli", "/lesson")
TOOK = re.compile(r"\b\d+(?:\.\d+)? (ms|s)\b")  # "tagged in 19.4 ms"


def test_another_gradio_version_or_the_switch_turns_the_fast_paths_off(monkeypatch):
    monkeypatch.delenv(gradio_internals.SWITCH, raising=False)
    monkeypatch.setattr(gradio, "__version__", gradio_internals.WRITTEN_FOR)
    assert gradio_internals.fast_paths_on()
    monkeypatch.setattr(gradio, "__version__", "6.32.0")
    assert not gradio_internals.fast_paths_on()
    assert "Gradio 6.32.0 is installed" in gradio_internals.why_off()
    monkeypatch.setattr(gradio, "__version__", gradio_internals.WRITTEN_FOR)
    monkeypatch.setenv(gradio_internals.SWITCH, "0")
    assert not gradio_internals.fast_paths_on()
    assert gradio_internals.why_off() == "EXPLORER_FAST_PATHS=0 is set"


@pytest.fixture(scope="module")
def stock_url(tmp_path_factory):
    """The app with its fast paths off: stock Gradio serves it."""
    yield from running_app(tmp_path_factory.mktemp("stock_app"), {gradio_internals.SWITCH: "0"})


def page(url: str) -> dict:
    """What GET / shows (its config): the title, and every component by id with its type and label."""
    with urllib.request.urlopen(url, timeout=60) as answer:
        assert answer.status == 200 and b"Sequence-model explorer" in answer.read()
    with urllib.request.urlopen(url + "config", timeout=60) as answer:
        config = json.loads(answer.read())
    components = {c["id"]: (c["type"], c["props"].get("label")) for c in config["components"]}
    return {"title": config["title"], "components": components}


def comparable(value):
    """An output as the client gives it, without what differs between two servers: a downloaded
    file's folder (its name stays), a plot's JSON encoding (its traces' kinds and names stay), the
    time an answer took."""
    if isinstance(value, str) and Path(value).is_file():
        return Path(value).name
    if isinstance(value, str):
        return TOOK.sub(r"<t> \1", value)
    if isinstance(value, dict) and "plot" in value:
        figure = json.loads(value["plot"])
        return [(t.get("type"), t.get("name")) for t in figure["data"]]
    if isinstance(value, (list, tuple)):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    return value


def test_stock_gradio_serves_the_same_page_and_answers(app_url, stock_url):
    assert OFF_LINE not in app_log(app_url)
    assert [line for line in app_log(stock_url).splitlines() if OFF_LINE in line] == [
        f"{OFF_LINE} (EXPLORER_FAST_PATHS=0 is set): stock Gradio serves the app (slower, correct)."
    ]
    assert page(stock_url) == page(app_url)
    fast, stock = Client(app_url, verbose=False), Client(stock_url, verbose=False)
    for api_name in ENDPOINTS:
        assert comparable(stock.predict(api_name=api_name)) == comparable(fast.predict(api_name=api_name)), api_name
    # The wrong-type checks are not a fast path: stock Gradio's server answers with them too.
    kind, text = answer(stock, "/self_attention", {"layer": "seven"})
    assert kind == "message" and "layer must be a whole number from 1 to 6, got 'seven'." in text


def test_stock_gradio_postprocesses_every_first_paint_with_and_without_a_link():
    """With the fast paths off, each tab's load event runs with Gradio's own postprocessing, which
    takes page_open's answer as it is: a plain visit's and a linked one's."""
    script = (
        "import asyncio, json, types, app\n"
        "from gradio.state_holder import SessionState\n"
        "loads = [fn for fn in app.demo.fns.values() if fn.name == 'first_paint']\n"
        "sent = []\n"
        "for block_fn, (view, _) in zip(loads, app.demo.first_paints):\n"
        "    defaults = [component.value for component in block_fn.inputs]\n"
        "    for query in ({}, {'view': view.api_name}):\n"
        "        answer = block_fn.fn(types.SimpleNamespace(query_params=query), *defaults)\n"
        "        out = asyncio.run(app.demo.postprocess_data(block_fn, answer, SessionState(app.demo)))\n"
        "        sent.append([block_fn.postprocess, len(out) == len(block_fn.outputs)])\n"
        "print(json.dumps(sent))\n"
    )
    env = {**os.environ, gradio_internals.SWITCH: "0"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sent = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(sent) >= 2 * 6 and all(postprocessed and complete for postprocessed, complete in sent), sent
