"""The NLI training recipe (training/nli_recipe.py): one dataclass for every option, its flags and config.json."""

import ast
import graphlib
import json
import re
import shlex

import pytest

from training.nli_recipe import BUNDLED, NLIRecipe

from conftest import REPO


def test_the_bundled_recipe_is_the_bundled_models_training_options():
    """assets/nli/config.json's "training" holds the same keys and values as BUNDLED: the recipe in
    code reproduces the bundled model's, and that config.json reads back as the same recipe."""
    saved = json.loads((REPO / "assets" / "nli" / "config.json").read_text())["training"]
    assert BUNDLED.options() == saved
    assert NLIRecipe.from_training(saved) == BUNDLED


def test_a_recipe_reads_back_old_and_rejects_unknown_training_options():
    options = NLIRecipe(epochs=5, valid=("a", "b")).options()
    assert options["valid"] == "a,b" and NLIRecipe.from_training(options).valid == ("a", "b")
    older = {k: v for k, v in options.items() if k not in ("patience", "no_swaps_from")}  # before they existed
    assert NLIRecipe.from_training(older) == NLIRecipe(epochs=5, valid=("a", "b"))
    with pytest.raises(ValueError, match="epoch"):
        NLIRecipe.from_training({**options, "epoch": 3})
    with pytest.raises(TypeError, match="tuple of names"):
        NLIRecipe(train="snli_dev,mpe")  # a string would be read letter by letter


def test_flags_are_made_from_the_fields():
    from training.train_nli import parse

    recipe, folders = parse(["--train", "a.tsv,b", "--test", "", "--epochs", "4", "--dropout", "0", "--layer_mix"])
    assert recipe == NLIRecipe(train=("a.tsv", "b"), test=(), epochs=4, dropout=0.0, layer_mix=True)
    assert isinstance(recipe.epochs, int) and isinstance(recipe.dropout, float)
    assert parse(["--no-layer_mix"])[0].layer_mix is False
    assert folders.out == REPO / "assets" / "nli" and folders.checkpoint == REPO / "artifacts" / "nli_checkpoint"
    assert parse(["--out", "x/run"])[1].checkpoint.as_posix() == "x/run/checkpoint"


EXPERIMENT = NLIRecipe(limit=8000, epochs=1, train_layers=6, encoder_learning_rate=5e-5, intra_attention=True)


@pytest.mark.parametrize(
    "recipe", [BUNDLED, NLIRecipe(), NLIRecipe(exclude_sources=("mpe",), layer_mix=True), EXPERIMENT]
)
def test_the_cards_command_trains_the_recipe_it_was_written_from(recipe):
    from training.train_nli import parse

    words = shlex.split(recipe.command())
    script = "training.nli_experiments" if recipe is EXPERIMENT else "training.train_nli"
    assert words[:3] == ["python", "-m", script]
    assert parse(words[3:], experiments=recipe is EXPERIMENT)[0] == recipe


def test_never_shipped_options_are_nli_experiments_flags_only(capsys):
    """train_nli trains the shipped architecture; fine-tuning, GloVe, intra-attention and the
    equal-budget knobs are flags (and fields) that only training/nli_experiments.py sets."""
    from training.train_nli import RunFolders, parse, train

    assert EXPERIMENT.experiments() == ["limit", "train_layers", "encoder_learning_rate", "intra_attention"]
    assert BUNDLED.experiments() == [] and "--train_layers" not in BUNDLED.command()
    with pytest.raises(SystemExit):
        parse(["--train_layers", "6"])
    assert "--train_layers never shipped; it is a flag of training/nli_experiments.py" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse(["--epochz", "6"])
    assert "unrecognized arguments: --epochz 6" in capsys.readouterr().err
    with pytest.raises(ValueError, match="nli_experiments"):
        train(EXPERIMENT, RunFolders(REPO / "unused", REPO / "unused", REPO / "unused"))


def shown_commands() -> list[tuple[str, str]]:
    """(where, command) for every train_nli / nli_experiments command the README, the cards and the
    scripts' docstrings show (backquoted in Markdown, or an indented line; placeholders filled in)."""
    texts = {
        name: (REPO / name).read_text(encoding="utf-8")
        for name in ("README.md", "assets/nli/MODEL_CARD.md", "assets/nli/CANDIDATES.md")
    }
    for script in ("train_nli", "nli_experiments"):
        docstring = ast.get_docstring(ast.parse((REPO / "training" / f"{script}.py").read_text(encoding="utf-8")))
        texts[script] = re.sub(r"\\\n\s*", " ", docstring)  # join continued lines
    found = []
    for where, text in texts.items():
        for match in re.finditer(
            r"`(python\s+-m\s+training\.(?:train_nli|nli_experiments)\b[^`]*)`|^ +(python -m training\.(?:train_nli|nli_experiments)\b.*)$",
            text,
            re.M,
        ):
            command = re.sub(r"#.*", "", match.group(1) or match.group(2))
            command = re.sub(r"\[(--\w+) \| [^]]*\]", r"\1", command.replace(" LR ", " 1e-4 "))  # one of the options
            found.append((where, " ".join(command.split())))
    return found


def test_every_command_shown_parses_with_its_scripts_flags():
    from training.train_nli import parse

    commands = shown_commands()
    assert len(commands) >= 12 and any(w == "README.md" and "--layer_mix --epochs 20" in c for w, c in commands)
    for where, command in commands:
        words = shlex.split(command)
        assert words[:2] == ["python", "-m"], (where, command)
        recipe = parse(words[3:], experiments=words[2] == "training.nli_experiments")[0]  # exits on a flag it lacks
        if where == "train_nli" and "--layer_mix --epochs 20" in command:  # the docstring's bundled recipe
            assert recipe == BUNDLED


NLI_TRAINING = ["nli_recipe", "nli_data", "nli_swaps", "nli_card", "eval_nli", "train_nli", "nli_experiments"]


def imports_of(module: str) -> tuple[set[str], list[str]]:
    """(the training/ modules `module` imports at its top level, the imports it makes inside functions)."""
    tree = ast.parse((REPO / "training" / f"{module}.py").read_text(encoding="utf-8"))
    inner = [
        f"{f.name}: line {node.lineno}"
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(f)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    top = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:  # from .x import y / from . import x
            top |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("training."):
            top.add(node.module.split(".")[1])
    return top, inner


def test_nli_training_modules_import_at_the_top_and_without_a_cycle():
    """eval_nli -> nli_swaps -> train_nli -> eval_nli was a cycle, hidden by imports inside functions."""
    graph = {}
    for module in NLI_TRAINING:
        graph[module], inner = imports_of(module)
        assert not inner, f"training/{module}.py imports inside functions: {inner}"
    graphlib.TopologicalSorter(graph).static_order()  # raises CycleError on a cycle
