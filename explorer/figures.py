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


def markdown_text(text: str) -> str:
    """A user string made safe inside Markdown: HTML escaped, then markup characters backslash-escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|~>" else ch for ch in html.escape(str(text), quote=False))


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
        trace.update(text=np.vectorize(label, otypes=[object])(cell_text), texttemplate="%{text}", textfont=dict(size=10))
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


def lines(x_labels: Sequence[str], series: dict[str, Sequence[float | None]], *, title: str = "", x_title: str = "",
          y_title: str = "", y_range: tuple[float, float] | None = None) -> go.Figure:
    """One line with markers per named series over shared x labels (None leaves a gap)."""
    x = [label(t) for t in x_labels]
    fig = go.Figure([go.Scatter(x=x, y=list(values), mode="lines+markers", name=label(name),
                                hovertemplate=label(name) + ": %{y:.2f}<extra>%{x}</extra>")
                     for name, values in series.items()])
    fig.update_layout(title=dict(text=title, x=0.01), font=FONT, margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      height=320, xaxis_title=x_title, yaxis_title=y_title, plot_bgcolor="white",
                      legend=dict(orientation="h", y=-0.25))
    fig.update_xaxes(type="category")
    if y_range:
        fig.update_yaxes(range=list(y_range))
    return fig


def heatmap_png(z: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str], path, *, title: str = "",
                x_title: str = "", y_title: str = "") -> None:
    """The same matrix as a PNG file drawn by matplotlib (no browser needed), row 0 at the top."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    z = np.asarray(z, dtype=float)
    rows, cols = z.shape
    fig = Figure(figsize=(max(4.0, 1.0 + 0.42 * cols), max(3.0, 1.2 + 0.32 * rows)), dpi=150)
    FigureCanvasAgg(fig)  # the object-oriented API: no pyplot state shared between request threads
    ax = fig.add_subplot()
    image = ax.imshow(z, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    # parse_math=False: a "$" in a token must print as "$", not start matplotlib's TeX mode.
    ax.set_xticks(range(cols), [str(t) for t in col_labels], rotation=60, ha="left", parse_math=False)
    ax.set_yticks(range(rows), [str(t) for t in row_labels], parse_math=False)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(x_title)
    ax.set_ylabel(y_title)
    if title:
        ax.set_title(title, fontsize=9, loc="left", pad=12, parse_math=False)
    fig.colorbar(image, ax=ax, fraction=0.04)
    fig.tight_layout()
    fig.savefig(path, format="png")
