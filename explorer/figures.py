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


def head_grid(
    attentions: np.ndarray,
    tokens: Sequence[str],
    *,
    title: str = "",
    map_px: int = 64,
) -> go.Figure:
    """Every head's attention map at once: a layers x heads grid of small [T, T] maps.

    attentions: float[L, H, T, T], rows sum to 1. Drawn as ONE heatmap of L*T rows by
    H*T columns holding whole percents as uint8 (plotly sends it as base64 bytes: about
    L*H*T^2*4/3 bytes, ~90 KB at T = 30 for 6 x 12 heads), with white lines between maps;
    72 separate subplots would cost 30x the time to build. Row l*T + i, column h*T + j is
    the weight of query i on key j in layer l, head h. Each row of maps is a layer, top down.
    """
    L, H, T, _ = attentions.shape
    percent = np.rint(np.clip(attentions, 0, 1) * 100).astype(np.uint8)  # (L, H, T, T)
    z = percent.transpose(0, 2, 1, 3).reshape(L * T, H * T)  # (L*T, H*T): layer-major rows, head-major columns
    names = [label(t) for t in tokens]
    # Category axes with one unique label per row / column, so hover names the layer,
    # head and both tokens; the axis ticks show only "layer l" / "head h".
    y = [f"layer {l + 1} · query {i}: {names[i]}" for l in range(L) for i in range(T)]
    x = [f"head {h + 1} · key {j}: {names[j]}" for h in range(H) for j in range(T)]
    fig = go.Figure(go.Heatmap(
        z=z, x=x, y=y, zmin=0, zmax=100, colorscale="Blues", showscale=False,
        hovertemplate="%{y}<br>%{x}<br>attention %{z}%<extra></extra>",
    ))
    lines = [dict(type="line", xref="x", yref="paper", x0=h * T - 0.5, x1=h * T - 0.5, y0=0, y1=1) for h in range(1, H)]
    lines += [dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=l * T - 0.5, y1=l * T - 0.5) for l in range(1, L)]
    for line in lines:
        line["line"] = dict(color="white", width=3)
    fig.update_layout(
        title=dict(text=title, x=0.01), font=FONT, shapes=lines, plot_bgcolor="white",
        margin=dict(l=10, r=10, t=60 if title else 30, b=10),
        height=min(1000, max(260, 70 + L * map_px)), dragmode=False,
    )
    fig.update_xaxes(type="category", side="top", tickmode="array", tickvals=[x[h * T + T // 2] for h in range(H)],
                     ticktext=[f"head {h + 1}" for h in range(H)], showgrid=False)
    fig.update_yaxes(type="category", autorange="reversed", tickmode="array", tickvals=[y[l * T + T // 2] for l in range(L)],
                     ticktext=[f"layer {l + 1}" for l in range(L)], showgrid=False)
    return fig
