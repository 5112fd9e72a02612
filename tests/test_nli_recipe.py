"""The NLI training recipe (training/nli_recipe.py): one dataclass for every option, its flags and config.json."""

import json
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


@pytest.mark.parametrize("recipe", [BUNDLED, NLIRecipe(), NLIRecipe(exclude_sources=("mpe",), layer_mix=True)])
def test_the_cards_command_trains_the_recipe_it_was_written_from(recipe):
    from training.train_nli import parse

    words = shlex.split(recipe.command())
    assert words[:3] == ["python", "-m", "training.train_nli"]
    assert parse(words[3:])[0] == recipe
