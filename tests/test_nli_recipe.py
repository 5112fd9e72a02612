"""The NLI training recipe (training/nli_recipe.py): one dataclass for every option, its flags and config.json."""

import json

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
