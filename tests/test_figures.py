"""Every figure builder returns a plain spec that plotly accepts with its validation on."""

import json

import numpy as np
import plotly.graph_objects as go

from explorer.core import figures as fg


def test_bar_line_and_heatmap_specs_are_valid_plotly():
    specs = [
        fg.bar([0.2, 0.8], ["a", "<b>b</b>"], title="t", x_title="p", colors=["#000000", "#ffffff"], x_range=(0, 1)),
        fg.bar(np.array([1.5]), ["only"]),
        fg.lines(["1", "2", "3"], {"with": [0.1, 0.5, None], "without": [0.2, None, None]}, y_range=(0, 1.05)),
        fg.heatmap(np.eye(2), ["a", "a"], ["<b>", "c"], cell_format=".2f"),
    ]
    for spec in specs:
        validated = go.Figure(spec)  # raises ValueError on any unknown property or bad value
        ours, plotly_own = json.loads(fg.plotly_json(spec)), json.loads(validated.to_json())
        assert [t.get("y") for t in ours["data"]] == [t.get("y") for t in plotly_own["data"]]
    assert specs[0]["data"][0]["y"][1] == "&lt;b&gt;b&lt;/b&gt;"


def test_heatmap_cell_text_is_escaped_once_per_distinct_text():
    spec = fg.heatmap(
        np.zeros((2, 3)),
        ["r0", "r1"],
        ["c0", "c1", "c2"],
        cell_text=np.array([["<b>", "PAD\n0", "<b>"], ["x", "PAD\n0", ""]], dtype=object),
    )
    assert spec["data"][0]["text"].tolist() == [["&lt;b&gt;", "PAD<br>0", "&lt;b&gt;"], ["x", "PAD<br>0", ""]]
