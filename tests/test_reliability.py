"""Faults and defaults a classroom server must survive: damaged weights, CUDA running out of
memory, a broken view, batched requests with one bad input, and the security settings."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO


# -- input limits: stated next to every text box, the same way -----------------------------
def test_every_text_box_states_its_limits_and_caps_its_length():
    import gradio as gr

    import app
    from explorer.core.limits import MAX_CHARS, MAX_HEAD_LIST, MAX_MODEL_NAME
    from explorer.web.deep_links import MAX_LINK_CHARS

    boxes = [b for b in app.demo.blocks.values() if isinstance(b, gr.Textbox) and b.interactive is not False]
    assert len(boxes) >= 8  # batch, tag, translate, sentence A, sentence B, encoder name, premise, hypothesis
    for box in boxes:
        if (box.elem_id or "").endswith("-link"):  # the Copy link box: the page's own URL
            assert box.max_length == MAX_LINK_CHARS
            continue
        assert box.max_length in (MAX_CHARS, MAX_MODEL_NAME, MAX_HEAD_LIST), box.label
        assert re.search(r"≤ \d+ characters", box.label), box.label


# -- damaged or missing weight files: named at start-up, with the fix ------------------------
def copy_assets(tmp_path: Path) -> Path:
    """The bundled asset tree as links (cheap), so one file can be broken in the copy."""
    root = tmp_path / "repo"
    for path in (REPO / "assets").rglob("*"):
        if path.is_file():
            target = root / path.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(path)
    return root


def test_bundled_files_are_all_usable():
    from models.runtime import problems

    assert problems() == []


def test_missing_and_damaged_files_are_named_with_the_fix(tmp_path):
    from models.runtime import problems

    root = copy_assets(tmp_path)
    (root / "assets/nli/model.safetensors").unlink()
    damaged = root / "assets/translator/attention/model.safetensors"
    damaged.unlink()
    damaged.write_bytes((REPO / "assets/translator/attention/model.safetensors").read_bytes()[:100_000])  # truncated
    (root / "assets/tagger/config.json").unlink()
    (root / "assets/tagger/config.json").write_text("{not json")
    found = problems(root)
    assert len(found) == 3, found
    text = "\n".join(found)
    assert "assets/nli/model.safetensors is missing" in text
    assert "assets/translator/attention/model.safetensors is damaged" in text
    assert "assets/tagger/config.json is damaged" in text
    assert (
        text.count("git checkout -- assets/") == 3 and "python -m training.train_translator --variant attention" in text
    )


def test_app_refuses_to_start_with_a_damaged_weight_file(tmp_path):
    """`python app.py` on a checkout whose NLI weights are garbage stops at once, naming the file."""
    root = copy_assets(tmp_path)
    shutil.copy(REPO / "app.py", root / "app.py")
    for package in ("explorer", "models"):  # copied, not linked: modules find assets next to themselves
        shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    broken = root / "assets/nli/model.safetensors"
    broken.unlink()
    broken.write_bytes(b"not a safetensors file" * 100)
    env = {**os.environ, "GRADIO_SERVER_PORT": "1", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    done = subprocess.run([sys.executable, "app.py"], cwd=root, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 1
    assert "Cannot start" in done.stderr and "assets/nli/model.safetensors is damaged" in done.stderr
    assert "git checkout -- assets/nli/model.safetensors" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_second_app_on_a_taken_port_says_which_port_and_what_to_set():
    """One line naming the port and GRADIO_SERVER_PORT, not Gradio's traceback (a bad value too)."""
    import socket

    from conftest import free_port

    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", port))
        taken.listen()
        for value, expected in ((str(port), f"Port {port} on 127.0.0.1 is taken"), ("abc", "not a port number")):
            env = {
                **os.environ,
                "GRADIO_SERVER_PORT": value,
                "HF_HUB_OFFLINE": "1",
                "GRADIO_ANALYTICS_ENABLED": "False",
            }
            done = subprocess.run(
                [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180
            )
            assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
            last = done.stderr.strip().splitlines()[-1]
            assert last.startswith("Cannot start:") and expected in last and "GRADIO_SERVER_PORT=" in last, last


# -- CUDA out of memory on one request: that request is retried on the CPU ------------------
class OutOfMemoryOnce:
    """Stands for a model on a full GPU: every call raises CUDA's out-of-memory error."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def __getattr__(self, name):
        return getattr(self.real, name)

    def tag(self, sentences):
        self.calls += 1
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")


def fake_runtime(*models):
    """A model runtime whose "tagger" loads are the given models in turn (the first for the
    GPU copy, the next for the CPU copy of a retried request): tests/fakes.py, no patching."""
    from models.runtime import ModelSpec, Runtime

    loads = iter(models)
    return Runtime({"tagger": ModelSpec(name="tagger", load=lambda device: next(loads))})


OUTPUTS = {name: name for name in ("tags", "confidence", "probs", "table", "status")}  # names as components


@pytest.fixture
def gpu_tagger_out_of_memory(tiny_tagger):
    """The shared tagger raises CUDA OOM; its CPU copy (what Runtime.cpu_only() gives) works."""
    full = OutOfMemoryOnce(tiny_tagger)
    return full, fake_runtime(full, tiny_tagger)


def test_out_of_memory_request_is_retried_on_cpu_with_a_notice(gpu_tagger_out_of_memory, monkeypatch, caplog):
    import gradio as gr

    from explorer.views import tagging
    from explorer.web.ui import endpoint
    from models.runtime import CPU_RETRY_NOTICE

    full, runtime = gpu_tagger_out_of_memory
    warnings = []
    monkeypatch.setattr(gr, "Warning", lambda message, *a, **k: warnings.append(message))
    run = endpoint(runtime, {"tagger": "tagger"}, tagging.show, OUTPUTS)
    with caplog.at_level(logging.WARNING, logger="explorer"):
        answer = run("The cat sat on the mat .", 8)
    assert full.calls == 1
    assert [t for t, label in answer["tags"] if label] == ["The", "cat", "sat", "on", "the", "mat", "."]
    assert answer["status"].endswith("on cpu.")
    assert warnings == [CPU_RETRY_NOTICE] and "retrying the request on the CPU" in caplog.text
    # only that request moved: the next lookup outside the retry is the GPU model again
    assert runtime.get("tagger") is full and runtime.loaded() == ["tagger", "tagger@cpu"]


def test_out_of_memory_in_a_batch_retries_the_whole_batch_on_cpu(gpu_tagger_out_of_memory):
    from explorer.views import tagging
    from explorer.web.ui import batched

    full, runtime = gpu_tagger_out_of_memory
    run_batch = batched(runtime, {"tagger": "tagger"}, tagging.show_many, tagging.render, OUTPUTS, "status")
    columns = dict(zip(OUTPUTS, run_batch(["The cat sat .", "Hi there"], [8, 8])))
    assert [len([t for t, label in tags if label]) for tags in columns["tags"]] == [4, 2]
    assert all(status.startswith(("4 tokens", "2 tokens")) for status in columns["status"]) and full.calls == 1


# -- batching: one bad request does not fail the others ---------------------------------------
def test_a_bad_request_in_a_batch_gets_its_message_and_the_others_their_answer(tiny_tagger):
    from explorer.views import tagging
    from explorer.web.ui import batched

    run_batch = batched(
        fake_runtime(tiny_tagger), {"tagger": "tagger"}, tagging.show_many, tagging.render, OUTPUTS, "status"
    )
    columns = dict(zip(OUTPUTS, run_batch(["The cat sat .", "", "<b>hi</b> " * 60, "Hi there"], [8, 8, 8, "lots"])))
    tags, status = columns["tags"], columns["status"]
    assert len([t for t, label in tags[0] if label]) == 4 and status[0].startswith("4 tokens tagged")
    assert "one forward for 2 queued requests" in status[0]
    assert tags[1] is None and status[1] == "⚠️ The text is empty: type a sentence."
    assert status[2].startswith("⚠️ The text has 420 tokens; the limit is 100.")
    assert tags[3] is None and "⚠️ k must be a whole number from 3 to 17, got 'lots'." == status[3]


@pytest.mark.bundled
@pytest.mark.parametrize(
    "api_name, columns, status_output",
    [
        ("tag", [["The cat sat.", "Hi there", "A dog."], [8, 99, 8]], 4),
        ("translate", [["A man rides a bike.", "A dog runs.", "A cat."], [1, 99, 1]], 1),
    ],
)
def test_an_out_of_range_slider_value_fails_only_its_own_request_in_a_batch(api_name, columns, status_output):
    """Through Gradio's own batch processing of the app's endpoint: a slider value out of range
    (sent to the API) gets its message, and the requests queued with it their answers."""
    import asyncio

    import app

    fn = next(f for f in app.demo.fns.values() if f.api_name == api_name)
    assert fn.batch
    answer = asyncio.run(app.demo.process_api(fn, columns, state=None))
    status = answer["data"][status_output]
    assert not status[0].startswith("⚠️") and not status[2].startswith("⚠️"), status
    assert status[1].startswith("⚠️") and "got '99'" in status[1], status


def test_batched_results_equal_one_at_a_time(bundled_nli):
    from explorer.views.nli import analysis as nli

    pairs = [
        ("A man is playing a guitar on stage.", "A man is sleeping in his bed."),
        ("Two kids play soccer.", "Children are outside playing a game with a ball in the park."),
        ("", "x"),
    ]
    many = nli.analyze_many(pairs, bundled_nli)
    assert isinstance(many[2], ValueError) and "premise is empty" in str(many[2])
    for (premise, hypothesis), batched_result in zip(pairs[:2], many):
        alone = nli.analyze(premise, hypothesis, bundled_nli)
        assert batched_result.inferred.label == alone.inferred.label and batched_result.run.batch == 2
        np.testing.assert_allclose(
            batched_result.inferred.premise_to_hypothesis, alone.inferred.premise_to_hypothesis, atol=1e-5
        )
        np.testing.assert_allclose(
            batched_result.inferred.hypothesis_contribution, alone.inferred.hypothesis_contribution, atol=1e-4
        )
        np.testing.assert_allclose(batched_result.probs, alone.probs, atol=1e-5)


# -- security defaults ------------------------------------------------------------------------
def test_launch_defaults_are_local_with_no_share_link_and_no_extra_paths(monkeypatch):
    from app import launch_settings

    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    settings = launch_settings()
    assert settings["server_name"] == "127.0.0.1" and settings["share"] is False and settings["allowed_paths"] == []
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert launch_settings()["server_name"] == "0.0.0.0"


def test_app_turns_analytics_off_and_queues_on_purpose():
    import app
    from explorer.web.serving import CONCURRENCY_PER_VIEW, QUEUE_MAX_SIZE

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert app.demo._queue.max_size == QUEUE_MAX_SIZE
    from explorer import VIEWS

    limits = {fn.concurrency_limit for fn in app.demo.fns.values()}
    # A section that queues its own work (the mask experiment's trainer) declares its own.
    declared = {s.concurrency for v in VIEWS for s in v.sections}
    assert limits <= {CONCURRENCY_PER_VIEW, "default", None} | declared


def test_no_pickle_and_no_remote_code_anywhere_in_the_code():
    sources = [p for folder in ("models", "explorer") for p in (REPO / folder).rglob("*.py")] + [REPO / "app.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert "torch.load(" not in text and "import pickle" not in text, path
        assert "trust_remote_code=True" not in text, path


def test_a_pickled_checkpoint_is_refused_and_the_bundled_encoder_used(tmp_path):
    from safetensors.torch import load_file

    from models import load_encoder

    from fakes import tiny_bert_dir

    safe = tiny_bert_dir(tmp_path / "safe")
    pickled = tmp_path / "pickled"
    shutil.copytree(safe, pickled)
    # the same checkpoint as the pickled pytorch_model.bin older hub repos carry
    torch.save(load_file(str(pickled / "model.safetensors")), pickled / "pytorch_model.bin")
    (pickled / "model.safetensors").unlink()
    assert (pickled / "pytorch_model.bin").exists() and not (pickled / "model.safetensors").exists()
    encoder = load_encoder(str(pickled))
    assert "no file named model.safetensors" in encoder.notice and "bundled" in encoder.notice
    assert encoder.name != str(pickled)


def test_each_session_gets_its_own_copy_of_the_component_configs_gradio_computes():
    """explorer.web.gradio_internals.reuse_block_configs: what a new session's state starts from is what Gradio
    computes, and one session changing a value does not change another's."""
    import json
    import subprocess
    import sys

    script = (
        "import json, app\n"
        "from gradio.state_holder import SessionState\n"
        "from explorer.web.gradio_internals import reuse_block_configs\n"
        "computed = json.dumps(SessionState(app.demo).config_values, default=str, sort_keys=True)\n"
        "reuse_block_configs(app.demo)\n"
        "first, second = SessionState(app.demo), SessionState(app.demo)\n"
        "key = next(iter(first.config_values))\n"
        "first.config_values[key]['props']['value'] = 'changed by one visitor'\n"
        "import gradio as gr\n"
        "slider = next(b for b in app.demo.blocks.values() if isinstance(b, gr.Slider))\n"
        "first[slider._id] = 5  # a session's own value\n"
        "updated = gr.Slider(minimum=0, maximum=99, render=False)  # a session's update: a new object\n"
        "first.blocks_config.blocks[slider._id] = updated\n"
        "first._update_config(slider._id)\n"
        "print(json.dumps([json.dumps(second.config_values, default=str, sort_keys=True) == computed,\n"
        "                  SessionState(app.demo).config_values[key]['props'].get('value'),\n"
        "                  first.config_values[slider._id]['props']['maximum'],\n"
        "                  SessionState(app.demo).config_values[slider._id]['props']['maximum']]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    same, value_seen_by_a_new_visitor, updated_maximum, new_visitors_maximum = json.loads(
        done.stdout.strip().splitlines()[-1]
    )
    assert same and value_seen_by_a_new_visitor != "changed by one visitor", done.stderr[-2000:]
    assert updated_maximum == 99 and new_visitors_maximum != 99  # an update is the session's, not stored


def test_the_stored_page_is_the_page_gradio_builds(app_url):
    """explorer.web.gradio_internals.StoredAnswers: the second visitor's page (from memory, compressed) is,
    byte for byte, the page Gradio builds for a browser without brotli (never stored for one with)."""
    import urllib.request

    import brotli

    def page(accept: str) -> tuple[str, bytes]:
        request = urllib.request.Request(app_url + "?view=nli", headers={"Accept-Encoding": accept})
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.headers.get("Content-Encoding", ""), answer.read()

    built = page("identity")
    first, second = page("br"), page("br")
    assert first == second and first[0] == "br"
    assert brotli.decompress(second[1]) == built[1] and b"gradio_config" in built[1]
    assert len(second[1]) < len(built[1]) / 4  # what a class downloads
