"""The mask experiment, as a section of the Batch tab (/batch_training): the same small tagger
trained three ways (masked + packed, masked + padded, unmasked + padded), its curves side by
side, and what each run predicts for the tab's batch, pad cells included.

    analyze(text, batch_size, steps, learning_rate, sort_by_length, seed) -> Experiment
    figures(experiment) -> the status, the curves, the end figures, the batch's predictions
    train(...) -> both, for the endpoint

The runs come from models.mask_experiment (the runtime's "mask_experiment", so the app imports
no torch before it loads it). Training is the one costly request of the app, so TRAINER runs
them one at a time, in order of arrival (a request learns its place in the queue
through its progress), keeps the default settings' runs for good (the warm-up trains them once)
and a few recent custom ones, and stops a custom run that trains past MAX_RUN_SECONDS.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import gradio as gr
import numpy as np
import pandas as pd

from explorer.contract import Param, Section
from explorer.core import figures as fg
from explorer.core.limits import MAX_QUEUED_RUNS, MAX_RUN_SECONDS, check_number, check_whole, split_lines
from explorer.core.plural import plural
from explorer.web.exports import request_folder
from explorer.web.serving import release_freed_memory
from models.mask_setting import DEFAULT, RANGES, SHARED, Setting, settings

from .analysis import MAX_SENTENCES, example_batch, examples, inline_tags

RUN_NAMES = ("masked + packed", "masked + padded", "unmasked + padded")
RUN_COLOURS = ("#2166ac", "#67a9cf", "#b35806")  # the two masked runs blue, the bug orange
KEEP_CUSTOM = 4  # custom settings whose runs stay in memory (a model each: ~1 MB)
Progress = Callable[..., object]  # gr.Progress's call: (fraction or (step, total), desc=...)


def shared_of(setting: Setting) -> dict:
    return {name: getattr(setting, name) for name in SHARED}


class Trainer:
    """One training at a time, first come first served; the runs of each setting kept.

    A request takes a ticket; it trains when every ticket before it is done, and meanwhile
    reports how many requests are ahead of it. A request whose runs are already kept (the
    defaults, or a setting someone ahead of it asked for) never waits.
    """

    def __init__(self, max_queued: int = MAX_QUEUED_RUNS, budget_seconds: float = MAX_RUN_SECONDS):
        self.max_queued, self.budget_seconds = max_queued, budget_seconds
        self._turn = threading.Condition()
        self._next_ticket = self._serving = 0
        self._default: tuple | None = None
        self._custom: OrderedDict[Setting, tuple] = OrderedDict()

    def kept(self, first: Setting) -> tuple | None:
        """The kept runs (models.mask_experiment.Run) whose first setting is `first`, or None."""
        with self._turn:
            if first == DEFAULT:
                return self._default
            if first in self._custom:
                self._custom.move_to_end(first)
                return self._custom[first]
            return None

    def runs(self, shared: dict, experiment, progress: Progress | None = None) -> tuple[tuple, int]:
        """The three runs of these shared settings (trained by `experiment`, a
        models.mask_experiment.MaskExperiment), and how many requests this one waited for."""
        wanted = settings(**shared)
        found = self.kept(wanted[0])
        if found is not None:
            return found, 0
        with self._turn:
            ahead = self._next_ticket - self._serving  # the one training now, and those queued
            if ahead > self.max_queued:
                raise ValueError(
                    f"{plural(ahead, 'training')} are running or waiting already (the server trains one at a time "
                    f"and queues at most {self.max_queued}). Try again in a minute, or look at the default runs."
                )
            ticket = self._next_ticket
            self._next_ticket += 1
            waited_for = ahead
            while self._serving != ticket:
                if progress is not None:
                    progress(0.0, desc=f"Queued: {plural(ticket - self._serving, 'training')} ahead of yours")
                self._turn.wait(timeout=1.0)
        try:
            found = self.kept(wanted[0])  # someone ahead may have asked for the same settings
            if found is None:
                found = self._train(wanted, experiment, progress)
            return found, waited_for
        finally:
            with self._turn:
                self._serving += 1
                self._turn.notify_all()

    def _train(self, wanted: tuple[Setting, ...], experiment, progress: Progress | None) -> tuple:
        is_default = wanted[0] == DEFAULT
        budget = None if is_default else self.budget_seconds  # the defaults always run to the end
        done = []
        for number, setting in enumerate(wanted):

            def on_step(step: int, steps: int, number=number) -> None:
                if progress is not None and (step % 10 == 0 or step == steps):
                    progress(
                        (number * steps + step, len(wanted) * steps),
                        desc=f"Training run {number + 1} of {len(wanted)} ({RUN_NAMES[number]})",
                        unit="steps",
                    )

            done.append(experiment.run(setting, budget_seconds=budget, on_step=on_step))
        release_freed_memory()
        runs = tuple(done)
        with self._turn:
            if is_default:
                self._default = runs
            else:
                self._custom[wanted[0]] = runs
                while len(self._custom) > KEEP_CUSTOM:
                    self._custom.popitem(last=False)
        return runs


TRAINER = Trainer()


# -- 1. analyze: the runs, and their predictions for the tab's batch ----------------------
@dataclass(frozen=True, eq=False)
class Experiment:
    """runs: masked + packed, masked + padded, unmasked + padded (RUN_NAMES), same settings
    tokens: the batch's sentences as words; gold: their tags where known (None otherwise)
    predicted: per run, a tag for every cell of the padded batch (B x T), pad cells included
    waited_for: trainings this request queued behind (0: its runs were ready)
    """

    runs: tuple  # of models.mask_experiment.Run, without their models (Run.without_model)
    tokens: list[list[str]]
    gold: list[list[str]] | None
    predicted: tuple[list[list[str]], ...]
    waited_for: int


def check_shared(batch_size, steps, learning_rate, sort_by_length, seed) -> dict:
    """The settings as typed or sent to the API -> Setting's fields, or a clear ValueError."""
    if not isinstance(sort_by_length, bool):
        word = str(sort_by_length).strip().lower()
        if word not in ("true", "false", "1", "0"):
            raise ValueError(f"sort_by_length must be true or false, got {str(sort_by_length)[:40]!r}.")
        sort_by_length = word in ("true", "1")
    return {
        "batch_size": check_whole(batch_size, *RANGES["batch_size"], "batch_size"),
        "steps": check_whole(steps, *RANGES["steps"], "steps"),
        "learning_rate": check_number(learning_rate, *RANGES["learning_rate"], "learning_rate"),
        "sort_by_length": sort_by_length,
        "seed": check_whole(seed, *RANGES["seed"], "seed"),
    }


def batch_words(text: str, tokenize: Callable[[str], list[str]]) -> tuple[list[list[str]], list[list[str]] | None]:
    """The tab's batch as words (as the Batch tab reads it: inline tags, or tokenized the UD
    way), and their gold tags when every line has them (typed inline or a UD EWT example line)."""
    lines = split_lines(text, "The batch")
    if len(lines) > MAX_SENTENCES:
        raise ValueError(f"The batch has {len(lines)} sentences; the limit is {MAX_SENTENCES}.")
    tagged = [inline_tags(line) for line in lines]
    if all(t is not None for t in tagged):
        return [words for words, _ in tagged], [tags for _, tags in tagged]
    tokens = [tokenize(line) for line in lines]
    gold = [examples().get(" ".join(t)) for t in tokens]
    return tokens, gold if all(g is not None for g in gold) else None


def analyze(
    text: str,
    batch_size,
    steps,
    learning_rate,
    sort_by_length,
    seed,
    experiment,
    progress: Progress | None = None,
    trainer: Trainer = TRAINER,
) -> Experiment:
    """The batch's words and gold, the three runs of these settings (kept, or trained by
    `experiment` in `trainer`'s queue) and what each predicts for the batch."""
    tokens, gold = batch_words(text, experiment.tokenize)
    shared = check_shared(batch_size, steps, learning_rate, sort_by_length, seed)
    runs, waited_for = trainer.runs(shared, experiment, progress)
    predicted = tuple(r.predict(tokens) for r in runs)
    # The answer is kept in the shared cache: its runs without their weights (the trainer keeps those).
    return Experiment(tuple(r.without_model() for r in runs), tokens, gold, predicted, waited_for)


# -- 2. figures -------------------------------------------------------------------------
def curves_figure(e: Experiment) -> dict:
    """Three panels over the steps: the loss the optimizer saw, accuracy on real tokens, and
    the same predictions scored with the pads counted."""
    # Short titles: three panels share a phone's width too.
    panels = (("loss", "Training loss"), ("accuracy", "Accuracy: words"),
              ("accuracy_with_pads", "Accuracy: pads counted"))  # fmt: skip
    data = []
    for number, (r, name, colour) in enumerate(zip(e.runs, RUN_NAMES, RUN_COLOURS, strict=True)):
        for panel, (field, _) in enumerate(panels, start=1):
            values = getattr(r, field) * (1 if field == "loss" else 100)
            data.append(
                dict(
                    type="scatter",
                    x=r.step.tolist(),
                    y=values.tolist(),
                    mode="lines",
                    name=name,
                    legendgroup=name,
                    showlegend=panel == 1,
                    line=dict(color=colour, width=2, dash="dot" if number == 1 else "solid"),
                    xaxis=f"x{panel}",
                    yaxis=f"y{panel}",
                    hovertemplate=f"{name}<br>step %{{x}}: %{{y:.{3 if field == 'loss' else 1}f}}"
                    + ("" if field == "loss" else " %")
                    + "<extra></extra>",
                )
            )
    layout = dict(
        modebar=fg.MODEBAR,
        font=fg.FONT,
        height=340,
        margin=dict(l=10, r=fg.MODEBAR_ROOM, t=50, b=10),
        plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.22),
        annotations=[
            dict(text=title, x=(i + 0.5) / 3, y=1.08, xref="paper", yref="paper", showarrow=False, font=dict(size=13))
            for i, (_, title) in enumerate(panels)
        ],
    )
    for panel in range(1, 4):
        left, right = (panel - 1) / 3 + 0.04, panel / 3 - 0.02
        layout[f"xaxis{panel}"] = dict(domain=[left, right], title=dict(text="step"), anchor=f"y{panel}",
                                       gridcolor="#eeeeee")  # fmt: skip
        layout[f"yaxis{panel}"] = dict(anchor=f"x{panel}", automargin=True, gridcolor="#eeeeee",
                                       title=dict(text="cross-entropy" if panel == 1 else "%"))  # fmt: skip
    return {"data": data, "layout": layout}


# Cell kinds of the predictions grid: a pad cell given PAD or a tag; a word right, wrong, or without gold.
PAD_AS_PAD, PAD_AS_TAG, RIGHT, WRONG, NO_GOLD = range(5)
CELL_COLOURS = ("#eeeeee", "#f1a340", "#9ecae1", "#b35806", "#d9e7f2")
CELL_NAMES = ("pad cell, predicted PAD", "pad cell, predicted a tag", "word, right tag", "word, wrong tag",
              "word (no gold tag)")  # fmt: skip


def predictions_figure(e: Experiment) -> dict:
    """Each run's tag for every cell of the batch, padded as one tensor (rows: run, sentence)."""
    width = max(len(t) for t in e.tokens)
    kinds, text, rows = [], [], []
    for name, predicted in zip(RUN_NAMES, e.predicted, strict=True):
        for b, row in enumerate(predicted):
            n = len(e.tokens[b])
            kind_row, text_row = [], []
            for t in range(width):
                tag = row[t]
                if t >= n:
                    kind_row.append(PAD_AS_PAD if tag == "PAD" else PAD_AS_TAG)
                    text_row.append(tag)
                else:
                    right = None if e.gold is None else tag == e.gold[b][t]
                    kind_row.append(NO_GOLD if right is None else RIGHT if right else WRONG)
                    text_row.append(tag)
            kinds.append(kind_row)
            text.append(text_row)
            rows.append(f"{name}: b={b}")
    z = np.array(kinds, dtype=float)
    scale = []
    for i, colour in enumerate(CELL_COLOURS):
        scale += [[i / len(CELL_COLOURS), colour], [(i + 1) / len(CELL_COLOURS), colour]]
    spec = fg.heatmap(
        z,
        rows,
        [str(t) for t in range(width)],
        title="What each run tags in your batch, padded as one tensor (orange: a tag on a pad cell, or a wrong tag)",
        x_title="time step t",
        cell_text=np.array(text, dtype=object),
        colorscale=scale,
        zmin=-0.5,
        zmax=len(CELL_COLOURS) - 0.5,
        show_scale=False,
        hover="%{text}",
        cell_px=26,
    )
    # The kinds as a legend: one empty trace per colour.
    for name, colour in zip(CELL_NAMES, CELL_COLOURS, strict=True):
        spec["data"].append(dict(type="scatter", x=[None], y=[None], mode="markers", name=name,
                                 marker=dict(symbol="square", size=12, color=colour)))  # fmt: skip
    spec["layout"]["showlegend"] = True
    spec["layout"]["legend"] = dict(orientation="h", y=-0.12, x=0)
    return spec


def end_table(e: Experiment) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "run": name,
                "steps": int(r.step[-1]),
                "final loss": round(float(r.loss[-1]), 3),
                "accuracy (real tokens) %": round(100 * float(r.accuracy[-1]), 1),
                "accuracy with pads %": round(100 * float(r.accuracy_with_pads[-1]), 1),
                "ms per step": round(1000 * r.seconds_per_step, 1),
                "training s": round(float(r.seconds[-1]), 1),
                "stopped early": r.stopped or "no",
            }
            for name, r in zip(RUN_NAMES, e.runs, strict=True)
        ]
    )


def unmasked_line(bug, good) -> str:
    """What the unmasked run shows against the masked + packed one, said as it came out."""
    flattered = bug.accuracy_with_pads[-1] - bug.accuracy[-1]
    if flattered > 0:
        line = (
            f"- The unmasked run scores **{100 * bug.accuracy_with_pads[-1]:.1f} %** when its pads count as tokens, "
            f"but **{100 * bug.accuracy[-1]:.1f} %** on the words: the pads it learned to predict flatter it by "
            f"{100 * flattered:.1f} points."
        )
    else:
        line = (
            f"- The unmasked run has not learned to predict PAD yet: {100 * bug.accuracy_with_pads[-1]:.1f} % with "
            f"its pads counted, {100 * bug.accuracy[-1]:.1f} % on the words (few pads in training, or few steps)."
        )
    if bug.loss[-1] < good.loss[-1]:
        line += f" Its loss ({bug.loss[-1]:.3f}) looks lower than the masked one's ({good.loss[-1]:.3f}): the easy pad cells are in its mean."
    return line


def status_markdown(e: Experiment) -> str:
    good, padded, bug = e.runs
    lines = [
        f"**Three runs, same data, seed {good.setting.seed}, {good.setting.steps} steps of "
        f"{good.setting.batch_size} sentences** (learning rate {good.setting.learning_rate:g}, "
        f"{'batches sorted by length' if good.setting.sort_by_length else 'random batches'}).",
        unmasked_line(bug, good),
        f"- Masked, packed vs padded: **{100 * good.accuracy[-1]:.1f} %** vs **{100 * padded.accuracy[-1]:.1f} %** "
        f"on real tokens, at {1000 * good.seconds_per_step:.0f} vs {1000 * padded.seconds_per_step:.0f} ms per step "
        "on this server.",
    ]
    stopped = [f"{name} {r.stopped}" for name, r in zip(RUN_NAMES, e.runs, strict=True) if r.stopped]
    if stopped:
        lines.append("- " + "; ".join(stopped) + ".")
    if e.waited_for:
        lines.append(f"- This request waited behind {plural(e.waited_for, 'other training')}.")
    if e.gold is None:
        lines.append("- Your batch has no gold tags, so its words are not marked right or wrong "
                     "(type them inline: `dogs/NOUN bark/VERB`).")  # fmt: skip
    return "\n".join(lines)


def figures(e: Experiment) -> dict:
    return {
        "status": status_markdown(e),
        "curves": curves_figure(e),
        "table": end_table(e),
        "predictions": predictions_figure(e),
    }


def train(text: str, batch_size, steps, learning_rate, sort_by_length, seed, *, experiment, progress=None) -> dict:
    """/batch_training: the three runs of these settings (trained, or kept) and their figures."""
    e = analyze(text, batch_size, steps, learning_rate, sort_by_length, seed, experiment, progress)
    return {**figures(e), "result": e}


# -- 3. export and the section ------------------------------------------------------------
def export_files(e: Experiment) -> list[str]:
    """curves.csv (every recorded step of every run) and settings.json, in a fresh folder."""
    folder = request_folder("batch_training")
    rows = [
        {
            "run": name,
            "step": int(s),
            "loss": float(loss),
            "accuracy": float(acc),
            "accuracy_with_pads": float(pads),
            "seconds": float(sec),
        }  # fmt: skip
        for name, r in zip(RUN_NAMES, e.runs, strict=True)
        for s, loss, acc, pads, sec in zip(r.step, r.loss, r.accuracy, r.accuracy_with_pads, r.seconds, strict=True)
    ]
    curves = folder / "curves.csv"
    pd.DataFrame(rows).to_csv(curves, index=False)
    setting = folder / "settings.json"
    setting.write_text(
        json.dumps(
            {name: {**asdict(r.setting), "stopped": r.stopped} for name, r in zip(RUN_NAMES, e.runs, strict=True)},
            indent=1,
        ),  # fmt: skip
        encoding="utf-8",
    )
    return [str(curves), str(setting)]


def build_inputs() -> dict:
    low, high = RANGES["batch_size"]
    return {
        "batch_size": gr.Slider(
            low, high, value=DEFAULT.batch_size, step=1, label="Batch size", elem_id="batch-training-batch-size"
        ),  # fmt: skip
        "steps": gr.Slider(
            *RANGES["steps"], value=DEFAULT.steps, step=10, label="Steps", elem_id="batch-training-steps"
        ),  # fmt: skip
        "learning_rate": gr.Number(
            value=DEFAULT.learning_rate,
            label="Learning rate (Adam)",
            minimum=RANGES["learning_rate"][0],
            maximum=RANGES["learning_rate"][1],
            elem_id="batch-training-learning-rate",
        ),  # fmt: skip
        "sort_by_length": gr.Checkbox(
            value=DEFAULT.sort_by_length, label="Batches sorted by length", elem_id="batch-training-sort"
        ),  # fmt: skip
        "seed": gr.Number(
            value=DEFAULT.seed,
            precision=0,
            label="Seed",
            minimum=RANGES["seed"][0],
            maximum=RANGES["seed"][1],
            elem_id="batch-training-seed",
        ),  # fmt: skip
    }


def build_outputs() -> dict:
    return {
        "curves": gr.Plot(show_label=False, elem_id="batch-training-curves"),
        "table": gr.Dataframe(label="At the end of each run", elem_id="batch-training-table", wrap=True),
        "predictions": gr.Plot(show_label=False, elem_id="batch-training-predictions"),
    }


DEFAULTS = {**shared_of(DEFAULT)}
SECTION = Section(
    title="Training with and without the mask",
    api_name="batch_training",
    models={"experiment": "mask_experiment"},
    reads=("text",),
    inputs=("batch_size", "steps", "learning_rate", "sort_by_length", "seed"),
    handler=train,
    analyze=analyze,
    figures=figures,
    build_inputs=build_inputs,
    build_outputs=build_outputs,
    button="Train the three runs",
    intro="### Training with and without the mask\nA small BiLSTM tagger learns from scratch on 1,200 UD EWT "
    "sentences three ways. The default runs are already trained; change a setting and a new training runs on "
    f"this server, one request at a time (each run stops after {MAX_RUN_SECONDS} CPU s of training).",
    note="mask_experiment",
    progress=True,
    # TRAINER queues the trainings itself; kept runs (the defaults) are answered at once.
    concurrency=MAX_QUEUED_RUNS + 2,
    export=export_files,
    export_label="Export the curves (CSV) and settings (JSON)",
    examples=({"text": example_batch(), **DEFAULTS},),
    limits={"text": MAX_SENTENCES, "queued trainings": MAX_QUEUED_RUNS, "seconds per run": MAX_RUN_SECONDS},
    links=(
        Param(
            "batch_size",
            "batch_size",
            "batch_size",
            kind="int",
            low=RANGES["batch_size"][0],
            high=RANGES["batch_size"][1],
        ),
        Param("steps", "steps", "steps", kind="int", low=RANGES["steps"][0], high=RANGES["steps"][1]),
        Param(
            "lr",
            "learning_rate",
            "learning_rate",
            kind="number",
            low=RANGES["learning_rate"][0],
            high=RANGES["learning_rate"][1],
        ),
        Param("sorted", "sort_by_length", "sort_by_length", kind="bool"),
        Param("seed", "seed", "seed", kind="int", low=RANGES["seed"][0], high=RANGES["seed"][1]),
    ),  # fmt: skip
)
