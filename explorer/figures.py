"""Shared plotly builders. Numpy in, figures out; no torch here.

Plotly reads a few HTML tags inside label text (<b>, <br>, <a href>), so every string
that came from a user goes through `label()` first.
"""
from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

FONT = dict(family="system-ui, sans-serif", size=12)


def label(text: str) -> str:
    """A user token made safe for plotly text: markup characters become entities."""
    return html.escape(str(text), quote=True)


def heatmap(
    z: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    cell_text: np.ndarray | None = None,
    hover: str = "%{z:.3f}",
    colorscale: str | list = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    show_scale: bool = True,
    cell_px: int = 28,
) -> go.Figure:
    """A matrix as a heatmap, row 0 at the top, with token labels on both axes.

    Axes are numeric with tick text, so a token that occurs twice ("the ... the") keeps
    two rows instead of being merged into one category.
    """
    z = np.asarray(z, dtype=float)
    rows, cols = z.shape
    y_text = [label(t) for t in row_labels]
    x_text = [label(t) for t in col_labels]
    trace = go.Heatmap(
        z=z,
        x=list(range(cols)),
        y=list(range(rows)),
        colorscale=colorscale,
        zmin=zmin,
        zmax=zmax,
        showscale=show_scale,
        customdata=np.array([[f"{y_text[r]} → {x_text[c]}" for c in range(cols)] for r in range(rows)], dtype=object),
        hovertemplate="%{customdata}<br>" + hover + "<extra></extra>",
        xgap=1,
        ygap=1,
    )
    if cell_text is not None:
        # Escape first, then turn our own "\n" into plotly's line break (tokens never hold "\n").
        cell = np.vectorize(lambda t: label(t).replace("\n", "<br>"), otypes=[object])(cell_text)
        trace.update(text=cell, texttemplate="%{text}", textfont=dict(size=10))
    fig = go.Figure(trace)
    fig.update_layout(
        title=dict(text=title, x=0.01),
        font=FONT,
        margin=dict(l=10, r=10, t=40 if title else 10, b=10),
        height=min(900, max(220, 90 + cell_px * rows)),
        plot_bgcolor="white",
    )
    fig.update_xaxes(title=x_title, tickmode="array", tickvals=list(range(cols)), ticktext=x_text, side="top", tickangle=-45 if cols > 8 else 0)
    fig.update_yaxes(title=y_title, tickmode="array", tickvals=list(range(rows)), ticktext=y_text, autorange="reversed")
    return fig


def bar(values: Sequence[float], names: Sequence[str], *, title: str = "", x_title: str = "", colors: Sequence[str] | None = None) -> go.Figure:
    """Horizontal bars, first name on top."""
    fig = go.Figure(go.Bar(x=list(values), y=[label(n) for n in names], orientation="h", marker_color=colors,
                           hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(title=dict(text=title, x=0.01), font=FONT, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      height=max(180, 60 + 26 * len(names)), xaxis_title=x_title, plot_bgcolor="white")
    fig.update_yaxes(autorange="reversed")
    return fig
