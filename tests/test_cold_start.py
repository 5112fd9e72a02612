"""Issue 29, a class that arrives while the app starts: a person's request is answered before the
warm-up's own work, one that waits for the models says so and then that the app is ready, and
nothing is computed twice when the warm-up and a request ask for the same answer at once. Small
fakes, no bundled model; the speed goals are the cold load test's (bench/load_test.py --cold)."""

from __future__ import annotations

import inspect
import threading
import time
from types import SimpleNamespace

import gradio as gr

from explorer.web.serving import LiveRequests, plan, warm_up
from explorer.web.ui import LOADING, READY, batched, endpoint
from models.cache import ResultCache
from models.runtime import ModelSpec, Runtime


def runtime_of(**loaders) -> Runtime:
    return Runtime({name: ModelSpec(name=name, load=load) for name, load in loaders.items()})


def fake_view(name: str, fn, examples=(), sections=(), linked=()):
    """A view and its FirstPaint as warm_up reads them: one text input, default "default"."""
    view = SimpleNamespace(
        api_name=name, examples=tuple({"text": e} for e in examples), sections=sections, models={},
        api_args=lambda values: [values["text"]],
    )  # fmt: skip
    return view, SimpleNamespace(fn=fn, inputs=[SimpleNamespace(value="default")], linked=linked)


def test_the_warm_up_starts_nothing_while_a_persons_request_is_answered():
    live, happened = LiveRequests(), []
    second_started, person_done = threading.Event(), threading.Event()

    def person() -> None:
        with live.answering():
            happened.append("person asks")
            time.sleep(0.4)
            happened.append("person answered")
        person_done.set()

    def item(text):
        happened.append(f"warm {text}")
        if text == "b":  # a person asks while the warm-up computes this one
            threading.Thread(target=person).start()
            second_started.set()
            time.sleep(0.1)

    first_paints = [fake_view("one", item, examples=["a", "b", "c", "d"])]
    warm_up(first_paints, live=live)
    person_done.wait(5)
    # The item under way finishes; the next ones wait until the person has the answer.
    assert happened == ["warm default", "warm a", "warm b", "person asks", "person answered", "warm c", "warm d"]


def test_the_warm_up_asks_in_the_order_a_class_does_and_the_long_sections_last():
    section = SimpleNamespace(
        api_name="one_section", cached=True, progress=False, examples=({"text": "s"},),
        api_args=lambda values: [values["text"]],
    )  # fmt: skip
    training = SimpleNamespace(**{**vars(section), "api_name": "one_training", "progress": True})
    linked = (SimpleNamespace(name="one_section", fn=print), SimpleNamespace(name="one_training", fn=str))
    views = [
        fake_view("one", print, examples=["one 1", "one 2"], sections=(training, section), linked=linked),
        fake_view("two", repr, examples=["two 1", "two 2", "two 3"]),
    ]
    items = [(item.phase, item.name, item.args) for item in plan(views)]
    assert items == [
        ("first paints", "one", ["default"]),  # every tab's first paint, in tab order
        ("first paints", "two", ["default"]),
        ("examples", "one", ["one 1"]),  # the board: every view's first example, then every second
        ("examples", "two", ["two 1"]),
        ("examples", "one", ["one 2"]),
        ("examples", "two", ["two 2"]),
        ("examples", "two", ["two 3"]),
        ("sections", "one_section", ["s"]),
        ("sections", "one_training", ["s"]),  # it reports progress: it trains for seconds
    ]


def test_a_request_that_waits_for_the_models_says_so_then_that_the_app_is_ready():
    release = threading.Event()

    def slow_load(device):
        release.wait(10)
        return "a model"

    runtime = runtime_of(fast=lambda device: "fast", slow=slow_load)
    show = lambda text, model: {"status": f"{text} read by {model}"}  # noqa: E731
    run = endpoint(runtime, {"model": "slow"}, show, {"status": "status line"})
    assert isinstance(list(inspect.signature(run).parameters.values())[-1].default, gr.Progress)
    runtime.load_in_background(["fast", "slow"])
    said, answers = [], []

    def progress(state, desc="", unit=""):
        said.append(desc)
        if desc == LOADING.format(n=1, total=2):
            release.set()  # the load ends while the request waits

    asked = threading.Thread(target=lambda: answers.append(run("hi", progress)))
    asked.start()
    asked.join(10)
    assert set(said) <= {"Loading the models (0 of 2)…", "Loading the models (1 of 2)…"} and said[-1].endswith(
        "(1 of 2)…"
    )
    assert answers == [{"status line": f"{READY} hi read by a model"}]
    reports = len(said)
    assert run("hi", progress) == {"status line": "hi read by a model"}  # later answers: no note, no wait
    assert len(said) == reports


def test_a_batched_request_takes_the_answer_the_warm_up_is_computing():
    runtime = runtime_of(model=lambda device: "model")
    computed, started = [], threading.Event()

    def show(text, model):
        computed.append(text)
        started.set()
        time.sleep(0.3)
        return {"out": text.upper(), "status": "one"}

    def show_many(requests, model):
        computed.extend(text for (text,) in requests)
        return [text for (text,) in requests]

    outputs = {"out": "out", "status": "status"}
    warming = threading.Thread(target=endpoint(runtime, {"model": "model"}, show, outputs), args=("the board",))
    warming.start()
    started.wait(5)
    render = lambda result, text: {"out": result.upper(), "status": "batched"}  # noqa: E731
    run_batch = batched(runtime, {"model": "model"}, show_many, render, outputs, "status", same_as=show)
    out, status = run_batch(["the board", "my own"])
    warming.join()
    assert out == ["THE BOARD", "MY OWN"] and status == ["one", "batched"]
    assert computed == ["the board", "my own"]  # the board's sentence once, by the warm-up


def test_the_warm_up_waits_for_an_answer_a_batch_is_computing():
    cache, calls = ResultCache(), []
    with cache.computing(["q", "r"]) as claimed:
        assert claimed == ["q", "r"]
        asked = threading.Thread(target=lambda: calls.append(cache.get_or_compute("q", lambda: "again")))
        asked.start()
        time.sleep(0.1)
        cache.put("q", "from the batch")
    asked.join(5)
    assert calls == ["from the batch"] and cache.lookup("r", wait=True) == (False, None)
