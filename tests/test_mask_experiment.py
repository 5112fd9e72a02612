"""The mask experiment (models/mask_experiment.py) and its section of the Batch tab
(explorer/views/batching/training.py): what a class sees in the curves, and a server that
trains one request at a time."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from explorer.views.batching import training
from explorer.views.batching.analysis import example_batch
from models.mask_experiment import DATA, PAD, MaskExperiment, Setting, batch_of, corpus, run, training_loss
from models.mask_setting import settings

from conftest import require

REPO = Path(__file__).resolve().parent.parent
SHORT = dict(steps=40, batch_size=16)
PACKED_VS_PADDED_TOLERANCE = 0.02  # masked + packed and masked + padded end within 2 points of accuracy


@pytest.fixture(scope="module")
def default_runs():
    """The three default runs, as the app's warm-up trains them."""
    return tuple(run(s) for s in settings())


def test_the_same_setting_gives_the_same_curves():
    a, b = run(Setting(**SHORT, seed=3)), run(Setting(**SHORT, seed=3))
    for name in ("step", "loss", "accuracy", "accuracy_with_pads"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    other = run(Setting(**SHORT, seed=4))
    assert not np.array_equal(a.loss, other.loss)  # the seed is used
    assert a.step[-1] == 40 and len(a.step) == len(a.seconds) == len(a.accuracy) and np.all(np.diff(a.seconds) > 0)


def test_the_unmasked_run_looks_better_with_the_pads_counted(default_runs):
    masked, padded, unmasked = default_runs
    assert unmasked.accuracy_with_pads[-1] > unmasked.accuracy[-1] + 0.03  # the pads flatter it
    assert unmasked.loss[-1] < masked.loss[-1]  # its loss too: the easy PAD cells are in the mean
    # A masked model never learned PAD: counted, its pad cells are wrong, so the number drops.
    assert masked.accuracy_with_pads[-1] < masked.accuracy[-1]
    assert masked.accuracy[-1] > 0.8 and unmasked.accuracy[-1] > 0.75  # they all learned to tag


def test_masked_packed_and_padded_reach_the_same_accuracy(default_runs):
    packed, padded, _ = default_runs
    assert abs(packed.accuracy[-1] - padded.accuracy[-1]) <= PACKED_VS_PADDED_TOLERANCE
    assert packed.setting.batching == "packed" and padded.setting.batching == "padded"


def test_the_hand_written_losses_are_torchs():
    """masked: cross-entropy that ignores the PAD targets; unmasked: the plain mean over B x T."""
    data = corpus()
    ids, tags, lengths = batch_of(list(data.train[:8]))
    scores = torch.randn(*ids.shape, len(data.tags), generator=torch.Generator().manual_seed(0))
    masked = training_loss(scores, tags, lengths, "masked")
    assert torch.allclose(masked, F.cross_entropy(scores.flatten(0, 1), tags.flatten(), ignore_index=PAD))
    unmasked = training_loss(scores, tags, lengths, "unmasked")
    assert torch.allclose(unmasked, F.cross_entropy(scores.transpose(1, 2), tags))
    assert (tags == PAD).any() and not torch.allclose(masked, unmasked)


def test_packing_never_reads_a_pad():
    """The packed model's outputs on a sentence do not change with the padding around it."""
    data = corpus()
    model = run(Setting(steps=10)).model
    sentence = data.train[0]
    longer = max(data.train[:50], key=lambda s: len(s[0]))
    alone = model(*batch_of([sentence])[::2], packed=True)[0, : len(sentence[0])]
    beside = model(*batch_of([sentence, longer])[::2], packed=True)[0, : len(sentence[0])]
    assert torch.allclose(alone, beside, atol=1e-5)
    padded_beside = model(*batch_of([sentence, longer])[::2], packed=False)[0, : len(sentence[0])]
    assert not torch.allclose(alone, padded_beside, atol=1e-4)  # the padded LSTM's backward read the pads


def test_a_budget_stops_a_run_cleanly():
    r = run(Setting(steps=600, batch_size=64), budget_seconds=0.05)
    assert r.stopped.startswith("stopped after step") and "budget" in r.stopped
    assert r.step[-1] < 600 and len(r.step) == len(r.loss) == len(r.accuracy)
    assert r.predict([["The", "dog", "barks", "."]])[0][1] in r.corpus.tags  # the model still tags


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("loss", "sum", "loss must be one of masked, unmasked"),
        ("batching", None, "batching must be one of packed, padded"),
        ("batch_size", 0, "batch_size must be from 2 to 64"),
        ("batch_size", 2.5, "batch_size must be a whole number"),
        ("batch_size", "8", "batch_size must be a whole number"),
        ("steps", 10**9, "steps must be from 10 to 600"),
        ("learning_rate", float("nan"), "learning_rate must be a number"),
        ("learning_rate", float("inf"), "learning_rate must be from"),
        ("seed", -1, "seed must be from 0 to 10000"),
        ("sort_by_length", "yes", "sort_by_length must be true or false"),
    ],
)
def test_a_bad_setting_says_what_is_allowed(field, value, says):
    with pytest.raises(ValueError, match=says.replace("(", r"\(")):
        Setting(**{field: value})


@pytest.mark.parametrize(
    "inputs, says",
    [
        (dict(batch_size="many"), "batch_size must be a whole number from 2 to 64"),
        (dict(steps=-5), "steps must be a whole number from 10 to 600"),
        (dict(learning_rate="fast"), "learning_rate must be a number from 0.0001 to 0.1"),
        (dict(learning_rate=True), "learning_rate must be a number"),
        (dict(sort_by_length="perhaps"), "sort_by_length must be true or false"),
        (dict(seed=10.5), "seed must be a whole number from 0 to 10000"),
        (dict(text=""), "The batch"),
    ],
)
def test_the_section_checks_what_the_api_sends(inputs, says):
    values = {"text": example_batch(), **training.DEFAULTS, **inputs}
    with pytest.raises(ValueError, match=says):
        training.train(**values, experiment=MaskExperiment())


def test_the_section_shows_the_three_runs_and_the_batch_as_each_predicts_it(default_runs):
    trainer = training.Trainer()
    trainer._default = default_runs  # as the warm-up leaves it
    text = "Dogs/NOUN bark/VERB ./PUNCT\nThe/DET old/ADJ man/NOUN walked/VERB his/PRON dog/NOUN in/ADP the/DET park/NOUN ./PUNCT"
    e = training.analyze(text, **training.DEFAULTS, experiment=MaskExperiment(), trainer=trainer)
    assert [r.loss.tolist() for r in e.runs] == [r.loss.tolist() for r in default_runs]  # kept: nothing trained
    assert e.waited_for == 0 and all(r.model is None for r in e.runs)  # the answer holds no weights
    shown = training.figures(e)
    table = shown["table"]
    assert list(table["run"]) == list(training.RUN_NAMES)
    assert table["accuracy with pads %"].iloc[2] > table["accuracy (real tokens) %"].iloc[2]
    bug = default_runs[2]
    assert f"**{100 * bug.accuracy_with_pads[-1]:.1f} %** when its pads count" in shown["status"]
    unmasked = e.predicted[2]
    assert len(unmasked) == 2 and len(unmasked[0]) == 10 == len(unmasked[1])  # every cell of the padded batch
    assert unmasked[0][3:] == ["PAD"] * 7  # the unmasked run learned to put PAD on padding
    assert all(tag != "PAD" for tag in e.predicted[0][0][3:])  # the masked one never learned PAD
    grid = shown["predictions"]["data"][0]
    assert grid["z"].shape == (6, 10)  # three runs x two sentences, ten steps
    assert set(np.unique(grid["z"][4])) <= {training.RIGHT, training.WRONG, training.PAD_AS_PAD}
    assert set(np.unique(grid["z"][0][3:])) == {training.PAD_AS_TAG}
    curves = shown["curves"]["data"]
    assert len(curves) == 9 and {t["name"] for t in curves} == set(training.RUN_NAMES)


def test_the_export_writes_every_recorded_step(default_runs, tmp_path):
    trainer = training.Trainer()
    trainer._default = default_runs
    e = training.analyze(example_batch(), **training.DEFAULTS, experiment=MaskExperiment(), trainer=trainer)
    curves, setting = training.export_files(e)
    lines = Path(curves).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "run,step,loss,accuracy,accuracy_with_pads,seconds"
    assert len(lines) == 1 + sum(len(r.step) for r in default_runs)
    assert json.loads(Path(setting).read_text(encoding="utf-8"))["unmasked + padded"]["loss"] == "unmasked"


class Gate:
    """A progress callback that holds the training it reports on until released, so a test can
    queue requests behind it deterministically."""

    def __init__(self):
        self.started, self.release, self.messages = threading.Event(), threading.Event(), []

    def __call__(self, fraction, desc="", **_):
        self.messages.append(desc)
        if desc.startswith("Training"):
            self.started.set()
            assert self.release.wait(timeout=120)


def test_trainings_queue_one_at_a_time_and_a_full_queue_says_so():
    trainer = training.Trainer(max_queued=1, budget_seconds=30)
    experiment = MaskExperiment()
    first_gate, second_gate = Gate(), Gate()
    second_gate.release.set()
    answers = {}

    def ask(name, seed, gate):
        shared = {**training.DEFAULTS, "steps": 10, "seed": seed}
        answers[name] = trainer.runs(shared, experiment, gate)

    first = threading.Thread(target=ask, args=("first", 1, first_gate))
    first.start()
    assert first_gate.started.wait(timeout=60)  # training, held at its first progress report
    second = threading.Thread(target=ask, args=("second", 2, second_gate))
    second.start()
    for _ in range(100):
        if any(m.startswith("Queued") for m in second_gate.messages):
            break
        threading.Event().wait(0.05)
    assert "Queued: 1 training ahead of yours" in second_gate.messages
    with pytest.raises(ValueError, match="2 trainings are running or waiting already"):
        trainer.runs({**training.DEFAULTS, "steps": 10, "seed": 3}, experiment)
    first_gate.release.set()
    first.join(timeout=120)
    second.join(timeout=120)
    assert answers["first"][1] == 0 and answers["second"][1] == 1  # the second waited for the first
    assert answers["second"][0][0].setting.seed == 2
    again, waited = trainer.runs({**training.DEFAULTS, "steps": 10, "seed": 1}, experiment)
    assert again is answers["first"][0] and waited == 0  # kept: not trained twice


def test_a_custom_run_stops_at_the_servers_budget():
    trainer = training.Trainer(budget_seconds=0.05)
    runs, _ = trainer.runs({**training.DEFAULTS, "steps": 600, "batch_size": 64}, MaskExperiment())
    assert all(r.stopped and r.step[-1] < 600 for r in runs)
    e = training.Experiment(runs, [["a"]], None, tuple(r.predict([["a"]]) for r in runs), 0)
    assert "budget" in training.status_markdown(e)


def test_the_subset_ships_under_its_licence_and_rebuilds_bit_for_bit(tmp_path, monkeypatch):
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert DATA.stat().st_size <= 300_000
    assert "CC BY-SA 4.0" in data["licence"] and "EWT" in data["source"]
    assert len(data["train"]) == 1200 and len(data["held_out"]) == 250
    from training import mask_data, ud

    require(ud.ewt_path("train").exists(), "UD EWT not found in ../shared/data (EXPLORER_DATA)")
    monkeypatch.setattr(mask_data, "OUT", tmp_path / "ewt_subset.json")
    mask_data.main()
    assert (tmp_path / "ewt_subset.json").read_bytes() == DATA.read_bytes()
