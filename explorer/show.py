"""The explorer in a notebook: one call per analysis, which returns what its tab draws.

    from explorer import show
    s = show.self_attention("The cat sat on the mat.", layer=3, head=7)
    s                      # in Jupyter, Colab or VS Code: the tab's text, tables and figures
    s.figures["zoom"]      # a plotly go.Figure
    s.result               # the plain result (numpy arrays, strings): the numbers behind the figures

Every view of explorer.VIEWS and every section that stands on its own inputs is a function here,
named by its API name (`show.tag`, `show.self_attention_rollout`, ...), with the same parameters
as its endpoint and the first example's values as defaults; `show.tags`, `show.translation`,
`show.rollout`, `show.mask_experiment` and a few more are shorter names for the same functions
(ALIASES). `show.names()` lists them. The models load once, from the bundled files
(models.runtime.RUNTIME), on the first call that needs them.

Figures render offline everywhere: each displayed Shown carries plotly.js inline once (about
4.6 MB in the notebook's output, never a CDN), so a figure is drawn in Jupyter, JupyterLab, VS
Code, Colab (where each cell's output is a page of its own) and in nbconvert's HTML alike.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from explorer import VIEWS
from explorer.core import figures as fg
from models.runtime import RUNTIME

# Shorter names a notebook reader reaches for, -> API names.
ALIASES = {
    "tags": "tag",
    "translation": "translate",
    "rollout": "self_attention_rollout",
    "inside_head": "self_attention_inside",
    "positions": "self_attention_positions",
    "ablation": "self_attention_ablation",
    "head_importance": "self_attention_head_importance",
    "transformer_training": "transformer_history",
    "mask_experiment": "batch_training",
    "packing_cost": "batch_cost",
}


@dataclass(frozen=True)
class Shown:
    """What one call shows: its text (markdown), tables and figures by the names the tab gives
    them, and the plain result (None where the analysis has none of its own)."""

    name: str
    text: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)  # plotly go.Figure
    result: Any = None

    def __getitem__(self, name: str):
        for part in (self.figures, self.tables, self.text):
            if name in part:
                return part[name]
        raise KeyError(f"{self.name} shows no {name!r}; it shows {sorted([*self.text, *self.tables, *self.figures])}.")

    def html(self) -> str:
        """The figures as one HTML fragment, plotly.js inline once (what a notebook displays)."""
        return "\n".join(
            figure.to_html(full_html=False, include_plotlyjs=position == 0, config={"displaylogo": False})
            for position, figure in enumerate(self.figures.values())
        )

    def _ipython_display_(self) -> None:
        # IPython exists only where this is called (a notebook or an IPython shell).
        from IPython.display import HTML, Markdown, display

        for text in self.text.values():
            display(Markdown(text))
        for table in self.tables.values():
            display(table)
        if self.figures:
            display(HTML(self.html()))

    def __repr__(self) -> str:
        parts = [f"text {list(self.text)}", f"tables {list(self.tables)}", f"figures {list(self.figures)}"]
        return f"Shown({self.name}: {', '.join(parts)})"


def shown(name: str, answer: Mapping[str, Any]) -> Shown:
    """A handler's answer (outputs by name) as a Shown: plotly specs become figures, DataFrames
    tables, strings text; what only the app needs (slider updates, files) is left out."""
    text, tables, figures = {}, {}, {}
    for key, value in answer.items():
        if isinstance(value, dict) and "data" in value and "layout" in value:
            figures[key] = fg.figure(value)
        elif isinstance(value, pd.DataFrame):
            tables[key] = value
        elif isinstance(value, str) and value.strip() and value not in text.values():  # a tab may show a line twice
            text[key] = value
    return Shown(name, text, tables, figures, answer.get("result"))


def callable_parts() -> dict[str, tuple[Any, tuple[str, ...], dict]]:
    """API name -> (its View or Section, its parameters, the first example's values) for every
    view and every section that stands on its own inputs (not one drawing the view's last answer)."""
    parts = {}
    for view in VIEWS:
        parts[view.api_name] = (view, view.inputs, dict(view.examples[0]) if view.examples else {})
        for section in view.sections:
            if "result" not in section.reads:
                parts[section.api_name] = (section, section.parameters, dict(section.examples[0]))
    return parts


def make(name: str, part, parameters: tuple[str, ...], example: dict) -> Callable[..., Shown]:
    lines = {p for p in parameters if isinstance(example.get(p), str) and "\n" in example[p]}  # one sentence a line

    def call(*args, **kwargs) -> Shown:
        bound = call.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        values = {
            p: "\n".join(v) if p in lines and isinstance(v, (list, tuple)) else v for p, v in bound.arguments.items()
        }
        models = {keyword: RUNTIME.get(model) for keyword, model in part.models.items()}
        return shown(name, part.handler(*values.values(), **models))

    call.__name__ = call.__qualname__ = name
    call.__signature__ = inspect.Signature(
        [inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=example.get(p)) for p in parameters]
    )
    what = (part.handler.__doc__ or "").strip().splitlines()[0] if part.handler.__doc__ else ""
    call.__doc__ = f"{part.title}: {what}\nParameters as the endpoint /{name} has them; defaults: its first example."
    return call


CALLS = {name: make(name, *spec) for name, spec in callable_parts().items()}
globals().update(CALLS)
globals().update({alias: CALLS[target] for alias, target in ALIASES.items() if target in CALLS})


def names() -> list[str]:
    """Every call of this module: the API names, then the aliases."""
    return [*CALLS, *(a for a, t in ALIASES.items() if t in CALLS)]


def __dir__() -> list[str]:
    return sorted([*globals(), *names()])
