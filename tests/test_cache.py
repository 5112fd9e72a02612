"""The shared answer cache and the warm-up: identical requests are answered once per process,
within a stated memory budget, and the first paint of every tab is computed before anyone asks."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from models.cache import ResultCache, size_of


def test_least_recently_used_answers_leave_when_the_budget_is_full():
    cache = ResultCache(budget_mb=0.25)  # 250 kB
    for k in range(4):
        cache.get_or_compute(k, lambda: np.zeros(100_000 // 8))  # 100 kB each
    assert cache.bytes <= cache.budget and len(cache) == 2
    assert cache.lookup(3)[0] and cache.lookup(2)[0] and not cache.lookup(0)[0]
    cache.get_or_compute("huge", lambda: np.zeros(1_000_000))  # larger than the whole budget: served, not kept
    assert not cache.lookup("huge")[0] and cache.bytes <= cache.budget


def test_two_identical_requests_at_once_compute_once():
    cache, calls = ResultCache(), []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return "answer"

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get_or_compute("q", slow))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == ["answer"] * 5 and len(calls) == 1


def test_a_failed_computation_is_not_kept():
    cache = ResultCache()

    def fail():
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        cache.get_or_compute("q", fail)
    assert cache.get_or_compute("q", lambda: 42) == 42


def test_sizes_count_arrays_tables_and_dataclasses():
    import pandas as pd

    from explorer.contract import RunInfo

    assert size_of(np.zeros(1000)) == 8000
    assert size_of({"a": np.zeros(10), "t": pd.DataFrame({"x": range(100)})}) > 880
    assert size_of(RunInfo(device="cpu", seconds=1.0)) > 0


def fake_runtime(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, encoder):
    from models.runtime import ModelSpec, Runtime

    from fakes import tiny_embeddings, tiny_transformer

    models = {"tagger": tiny_tagger, "translator/attention": tiny_translator, "translator/no_attention": tiny_baseline,
              "translator/transformer": tiny_transformer(), "nli": tiny_nli, "encoder": encoder,
              "embeddings": tiny_embeddings(encoder)}  # fmt: skip
    return Runtime({name: ModelSpec(name=name, load=lambda device, m=m: m) for name, m in models.items()})


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    from models import load_encoder

    from fakes import tiny_bert_dir

    return load_encoder(str(tiny_bert_dir(tmp_path_factory.mktemp("tiny-bert"))))


def test_a_cached_answer_is_what_a_fresh_computation_gives(
    tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder
):
    from explorer.views import tagging
    from explorer.web.ui import endpoint

    outputs = {name: name for name in ("tags", "confidence", "probs", "table", "status")}
    shared = fake_runtime(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder)
    run = endpoint(shared, {"tagger": "tagger"}, tagging.show, outputs)
    first, second = run("The cat sat .", 8), run("The cat sat .", 8)
    assert shared.cache.stats()["hits"] == 1 and second["table"] is first["table"]  # the same objects
    fresh = endpoint(
        fake_runtime(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder),
        {"tagger": "tagger"},
        tagging.show,
        outputs,
    )("The cat sat .", 8)
    assert second["tags"] == fresh["tags"] and second["table"].equals(fresh["table"])
    assert second["probs"].plot == fresh["probs"].plot  # the plot JSON itself
    run("The cat sat .", 5)  # another input, another answer
    assert shared.cache.stats()["misses"] == 2


def test_a_batched_request_finds_what_the_single_request_endpoint_computed(
    tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder
):
    """The warm-up and first paints go through `endpoint`; the API's queued requests through
    `batched`: one key, so the class's first API calls are answered from the warm-up's work."""
    from explorer.views import translation
    from explorer.web.ui import batched, endpoint

    names = ("translation", "status", "alignment", "step_plot", "written", "beams", "comparison", "confidence")
    outputs = {name: name for name in names + ("step", "files", "result")}
    shared = fake_runtime(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder)
    needs = translation.VIEW.models
    first = endpoint(shared, needs, translation.show, outputs)("A man rides a bike.", 1)
    stored = shared.cache.stats()
    run_batch = batched(
        shared, needs, translation.show_many, lambda r, *_: translation.render(r), outputs, "status",
        same_as=translation.show, complete=lambda answer: {**answer, "step": "the slider update"},
    )  # fmt: skip
    columns = dict(zip(outputs, run_batch(["A man rides a bike.", "A dog runs."], [1, 1])))
    assert shared.cache.stats()["hits"] == stored["hits"] + 1 and shared.cache.stats()["misses"] == stored["misses"] + 1
    assert columns["translation"][0] == first["translation"] and columns["alignment"][0] is first["alignment"]
    assert columns["step"] == ["the slider update"] * 2  # built per request, never cached
    assert "one batched search" not in columns["status"][1]  # the one new request ran alone in its batch
    again = dict(zip(outputs, run_batch(["A dog runs."], [1])))  # now stored by the batched path itself
    assert (
        again["translation"][0] == columns["translation"][1] and shared.cache.stats()["misses"] == stored["misses"] + 1
    )


def test_warm_up_answers_every_first_paint_and_example_before_anyone_asks(
    tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder
):
    import app
    from explorer import VIEWS
    from explorer.web.serving import warm_up

    runtime = fake_runtime(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder)
    demo = app.build_demo(runtime=runtime)
    warm_up(demo.first_paints)
    stored = runtime.cache.stats()
    assert stored["answers"] >= len(VIEWS) + 2  # every first paint, and the examples that differ from it
    for view, paint in demo.first_paints:  # a visitor's page open: only answers already there
        for args in [[component.value for component in paint.inputs]] + [view.api_args(e) for e in view.examples]:
            paint.fn(*args)
    assert runtime.cache.stats()["misses"] == stored["misses"]


def test_a_plain_page_open_sends_what_gradio_postprocessing_sends(
    tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder
):
    """deep_links.Painter.page_open serializes a plain visit's first paint once (its load event runs
    with postprocess=False): what each visitor gets is, output by output, what Gradio's own
    postprocessing makes of the answer, and a visitor who changes their copy changes no one else's."""
    import asyncio
    import inspect
    import json

    import gradio as gr
    from gradio.state_holder import SessionState

    import app
    from explorer.web.deep_links import NO_LINK

    runtime = fake_runtime(tiny_tagger, tiny_translator, tiny_baseline, tiny_nli, tiny_encoder)
    demo = app.build_demo(runtime=runtime)
    loads = [fn for fn in demo.fns.values() if fn.name == "first_paint"]
    assert len(loads) == len(demo.first_paints) and all(not fn.postprocess for fn in loads)

    def sent(block_fn, answer, postprocess):
        block_fn.postprocess = postprocess
        try:
            out = asyncio.run(demo.postprocess_data(block_fn, answer, SessionState(demo)))
        finally:
            block_fn.postprocess = False
        return json.dumps(out, default=repr, sort_keys=True)

    for block_fn in loads:
        defaults = [component.value for component in block_fn.inputs]
        painter = inspect.getclosurevars(block_fn.fn).nonlocals["self"]  # the Painter whose page_open this is
        fresh = painter.render(NO_LINK, *defaults)
        shown = {c: c.value for c in block_fn.outputs if c not in fresh and isinstance(c, gr.components.Component)}
        assert shown  # what only a link fills keeps the value it shows (not a no-op update Gradio rebuilds for)
        expected = sent(block_fn, {**fresh, **shown}, postprocess=True)
        first, second = block_fn.fn(None, *defaults), block_fn.fn(None, *defaults)
        assert sent(block_fn, first, postprocess=False) == expected
        changed = next(c for c, v in first.items() if isinstance(v, (list, dict)) and not c.stateful)
        first[changed] = "changed by one visitor"
        assert sent(block_fn, second, postprocess=False) == expected
        assert sent(block_fn, block_fn.fn(None, *defaults), postprocess=False) == expected
