"""Shared plotly builders. Numpy in, figures out; no torch here.

A builder returns a plain spec, {"data": [...], "layout": {...}}: `figure(spec)` makes it a
go.Figure, `plotly_json(spec)` the JSON that plotly.js reads. The second skips building a
go.Figure at all, which costs more than the encoder's forward for the big attention grid.

Plotly reads a few HTML tags inside label text (<b>, <br>, <a href>), so every string
that came from a user goes through `label()` first.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import plotly.colors
import plotly.graph_objects as go

FONT = dict(family="system-ui, sans-serif", size=12)
# Diverging, colour-blind safe (blue vs orange, never red vs green): negative orange, 0 white,
# positive blue (ColorBrewer PuOr's orange end and RdBu's blue end).
BLUE_ORANGE = [[0.0, "#b35806"], [0.25, "#f1a340"], [0.5, "#f7f7f7"], [0.75, "#67a9cf"], [1.0, "#2166ac"]]


# The mode bar (zoom, PNG, ...) stands upright in the right margin, so no title runs under it.
MODEBAR = dict(orientation="v")
MODEBAR_ROOM = 40  # px of right margin it needs


def figure(spec: dict):
    """A plotly go.Figure from a plain {"data": [...], "layout": {...}} spec, skipping plotly's
    per-property validation (5-60 ms a figure here). The builders' specs are validated once,
    in the tests (tests/test_self_attention.py::test_figures_are_valid_plotly)."""
    return go.Figure(data=spec["data"], layout=spec["layout"], _validate=False)


# numpy dtype -> plotly.js typed-array dtype
TYPED_ARRAYS = {
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "float32": "f4",
    "float64": "f8",
}


def _jsonable(value):
    if isinstance(value, np.ndarray):
        if value.dtype.name in TYPED_ARRAYS and value.size:
            # plotly.js reads numbers as base64 bytes: a uint8 cell costs 1.33 bytes, not ~3.
            typed = {
                "dtype": TYPED_ARRAYS[value.dtype.name],
                "bdata": base64.b64encode(np.ascontiguousarray(value)).decode("ascii"),
            }
            if value.ndim > 1:
                typed["shape"] = ", ".join(str(n) for n in value.shape)
            return typed
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot put {type(value).__name__} in a plotly spec")


def plotly_json(spec: dict) -> str:
    """A spec as the JSON plotly.js reads (what go.Figure.to_json gives, without building one)."""
    return json.dumps(spec, default=_jsonable, separators=(",", ":"))


@lru_cache(maxsize=32)
def _named_scale(name: str) -> tuple:
    return tuple(tuple(stop) for stop in plotly.colors.get_colorscale(name))


def spelled_scale(value: str | list) -> list:
    """A named scale spelled out: plotly.js reads some names ("Blues") reversed from plotly.py."""
    return [list(stop) for stop in _named_scale(value)] if isinstance(value, str) else value


def label(text: str) -> str:
    """A user token made safe for plotly text: markup characters become entities."""
    # Quotes stay: plotly shows "&quot;" literally, and no tag can open once < is escaped.
    return html.escape(str(text), quote=False)


def numbered(tokens: Sequence[str]) -> list[str]:
    """Axis and CSV labels "i: token": a repeated token stays two labels, and no label starts with = + - @."""
    return [f"{i}: {t}" for i, t in enumerate(tokens)]


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
    cell_format: str | None = None,
    hover: str = "%{z:.3f}",
    colorscale: str | list = "Blues",
    zmin: float | None = None,
    zmax: float | None = None,
    show_scale: bool = True,
    cell_px: int = 28,
    masked: np.ndarray | None = None,
    masked_note: str = "masked",
) -> dict:
    """A matrix as a heatmap spec, row 0 at the top, with token labels on both axes.

    Axes are numeric with tick text, so a token that occurs twice ("the ... the") keeps
    two rows instead of being merged into one category. Each cell shows cell_text[r, c], or
    its own value in the d3 format cell_format (".2f"), formatted by plotly.js in the browser.
    masked: bool[rows, cols], cells that cannot hold a value (a causal mask's future): drawn
    hatched grey under a legend entry `masked_note`, never as a 0 of the colour scale.
    """
    z = np.asarray(z, dtype=float)
    rows, cols = z.shape
    y_text = [label(t) for t in row_labels]
    x_text = [label(t) for t in col_labels]
    trace = dict(
        type="heatmap",
        z=z,
        x=list(range(cols)),
        y=list(range(rows)),
        colorscale=spelled_scale(colorscale),
        zmin=zmin,
        zmax=zmax,
        showscale=show_scale,
        # numpy str arrays, not lists or object arrays: plotly deep-copies every property,
        # and copying T^2 Python strings one by one cost more than the encoder's forward.
        customdata=np.array([[f"{y_text[r]} → {x_text[c]}" for c in range(cols)] for r in range(rows)], dtype=str),
        hovertemplate="%{customdata}<br>" + hover + "<extra></extra>",
        xgap=1,
        ygap=1,
    )
    if masked is not None:
        masked = np.asarray(masked, dtype=bool)
        trace["z"] = np.where(masked, np.nan, z)  # a gap: no colour, no hover
        trace["hoverongaps"] = False
    if cell_text is not None:
        # Escape first, then turn our own "\n" into plotly's line break (tokens never hold "\n").
        # Each distinct text once: numbers, blanks and PAD cells repeat a lot.
        texts, where = np.unique(np.asarray(cell_text, dtype=str), return_inverse=True)
        escaped = np.array([label(t).replace("\n", "<br>") for t in texts], dtype=str)
        trace.update(text=escaped[where.reshape(rows, cols)], texttemplate="%{text}", textfont=dict(size=10))
    elif cell_format:
        trace.update(texttemplate=f"%{{z:{cell_format}}}", textfont=dict(size=10))
    # Column labels stand above the map, rotated when there are many: leave them room
    # between the title and the map.
    label_room = min(120, 6 * max((len(t) for t in x_text), default=0)) if cols > 8 else 20
    label_room += 24 if x_title else 0  # the axis title sits above the labels, under the figure title
    layout = dict(
        modebar=MODEBAR,
        title=dict(text=title, x=0.01, yref="container", y=1, yanchor="top", pad=dict(t=10)),
        font=FONT,
        margin=dict(l=10, r=MODEBAR_ROOM, t=(50 if title else 10) + label_room, b=10),
        height=min(900 + label_room, max(220, 90 + cell_px * rows) + label_room),
        plot_bgcolor="white",
        xaxis=dict(
            title=dict(text=x_title),
            automargin=True,
            tickmode="array",
            tickvals=list(range(cols)),
            ticktext=x_text,
            side="top",
            tickangle=-45 if cols > 8 else 0,
        ),
        yaxis=dict(
            title=dict(text=y_title),
            automargin=True,
            tickmode="array",
            tickvals=list(range(rows)),
            ticktext=y_text,
            autorange="reversed",
        ),
    )
    data = [trace]
    if masked is not None:
        data.append(masked_cells(masked, masked_note))
        layout["legend"] = dict(orientation="h", x=0, y=0, yanchor="bottom", yref="container")
        layout["margin"]["b"] = 40
    return {"data": data, "layout": layout}


def side_by_side(left: dict, right: dict, titles: tuple[str, str], *, title: str = "") -> dict:
    """Two heatmap specs (from `heatmap`) as one figure, left | right, each with its own axes and
    title; the right one's colour bar only (give both the same zmin / zmax)."""
    data = [dict(t, showscale=False) if t.get("type") == "heatmap" else dict(t) for t in left["data"]]
    data += [dict(t, xaxis="x2", yaxis="y2") for t in right["data"]]
    layout = dict(right["layout"], title=dict(text=title, x=0.01, yref="container", y=1, yanchor="top", pad=dict(t=10)))
    layout["height"] = max(left["layout"]["height"], right["layout"]["height"]) + 30
    layout["margin"] = dict(right["layout"]["margin"], t=right["layout"]["margin"]["t"] + 30)
    layout["xaxis"] = dict(left["layout"]["xaxis"], domain=[0, 0.46])
    layout["yaxis"] = dict(left["layout"]["yaxis"])
    layout["xaxis2"] = dict(right["layout"]["xaxis"], domain=[0.54, 1], anchor="y2")
    layout["yaxis2"] = dict(right["layout"]["yaxis"], anchor="x2", title=dict(text=""))  # the left one names both
    layout["annotations"] = [
        dict(text=label(name), showarrow=False, x=x, y=0, xref="paper", yref="paper", xanchor="center",
             yanchor="top", yshift=-4, font=dict(size=13))
        for name, x in zip(titles, (0.23, 0.77))
    ]  # fmt: skip
    layout["margin"]["b"] = 40
    return {"data": data, "layout": layout}


MASKED_GREY = "#c8c8c8"


def masked_cells(masked: np.ndarray, note: str) -> dict:
    """The masked cells of a heatmap as a plain grey layer under it, with one legend entry `note`."""
    return dict(
        type="heatmap",
        z=np.where(np.asarray(masked, dtype=bool), 1.0, np.nan).astype(np.float32),
        x=list(range(masked.shape[1])),
        y=list(range(masked.shape[0])),
        colorscale=[[0, MASKED_GREY], [1, MASKED_GREY]],
        showscale=False,
        showlegend=True,
        name=label(note),
        hoverongaps=False,
        hovertemplate=label(note) + "<extra></extra>",
        xgap=1,
        ygap=1,
    )


def vectors(
    z: np.ndarray,
    row_labels: Sequence[str],
    *,
    title: str = "",
    x_title: str = "dimension",
    y_title: str = "token",
    highlight_row: int | None = None,
    height: int | None = None,
) -> dict:
    """A stack of vectors [rows, dims] (one token's vector per row) as a heatmap spec, row 0 on top.

    Blue-white-red around 0, symmetric in the largest |value|; the columns are numbered
    dimensions, so no per-cell label is built (a [30, 384] input is 11,520 cells). highlight_row
    outlines one row (the query token)."""
    z = np.asarray(z, dtype=np.float32)
    rows, cols = z.shape
    bound = float(np.abs(z).max()) or 1.0
    y = [f"{i}: {label(t)}" for i, t in enumerate(row_labels)]
    trace = dict(
        type="heatmap",
        z=z,
        x=list(range(cols)),
        y=list(range(rows)),
        zmin=-bound,
        zmax=bound,
        colorscale=spelled_scale("RdBu_r"),
        hovertemplate="token %{y}, dimension %{x}: %{z:.3f}<extra></extra>",
    )
    layout = dict(
        modebar=MODEBAR,
        title=dict(text=title, x=0.01, yref="container", y=1, yanchor="top", pad=dict(t=10)),
        font=FONT,
        # The dimension axis stands on top, under the title: room for both.
        margin=dict(l=10, r=MODEBAR_ROOM, t=(95 if title else 60) if x_title else (60 if title else 30), b=10),
        height=height or min(700, max(200, 140 + 18 * rows)),
        plot_bgcolor="white",
        xaxis=dict(title=dict(text=x_title), automargin=True, side="top"),
        yaxis=dict(
            title=dict(text=y_title),
            automargin=True,
            tickmode="array",
            tickvals=list(range(rows)),
            ticktext=y,
            autorange="reversed",
        ),
    )
    if highlight_row is not None:
        layout["shapes"] = [
            dict(type="rect", xref="paper", yref="y", x0=0, x1=1, y0=highlight_row - 0.5, y1=highlight_row + 0.5,
                 line=dict(color="black", width=2))
        ]  # fmt: skip
    return {"data": [trace], "layout": layout}


def bar(
    values: Sequence[float],
    names: Sequence[str],
    *,
    title: str = "",
    x_title: str = "",
    colors: Sequence[str] | None = None,
    x_range: tuple[float, float] | None = None,
) -> dict:
    """Horizontal bars as a spec, first name on top."""
    trace = dict(
        type="bar",
        x=np.asarray(values, dtype=float),
        y=[label(n) for n in names],
        orientation="h",
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    )
    if colors is not None:
        trace["marker"] = dict(color=list(colors))
    layout = dict(
        modebar=MODEBAR,
        title=dict(text=title, x=0.01),
        font=FONT,
        margin=dict(l=10, r=MODEBAR_ROOM, t=40 if title else 10, b=10),
        height=max(180, 60 + 26 * len(names)),
        plot_bgcolor="white",
        xaxis=dict(title=dict(text=x_title), automargin=True),
        yaxis=dict(autorange="reversed", automargin=True),
    )
    if x_range:
        layout["xaxis"]["range"] = list(x_range)
    return {"data": [trace], "layout": layout}


def head_grid(
    attentions: np.ndarray,
    tokens: Sequence[str],
    *,
    key_tokens: Sequence[str] | None = None,
    masked: np.ndarray | None = None,
    masked_note: str = "masked",
    title: str = "",
    map_px: int = 64,
) -> dict:
    """Every head's attention map at once: a spec of a layers x heads grid of small [T, K] maps.

    attentions: float[L, H, T, K], rows sum to 1; K = T (self-attention, key_tokens = tokens)
    or another sequence's length (cross-attention: key_tokens names its K keys). Drawn as ONE
    heatmap of L*T rows by H*K columns holding whole percents as uint8 (plotly sends it as
    base64 bytes: about L*H*T*K*4/3 bytes, ~90 KB at T = K = 30 for 6 x 12 heads), with white
    lines between maps; 72 separate subplots would cost 30x the time to build. Row l*T + i,
    column h*K + j is the weight of query i on key j in layer l, head h. Each row of maps is a
    layer, top down. masked: bool[T, K], the same in every map (a causal mask): those cells are
    gaps over a grey background (float32 then, 4 bytes a cell), with the legend note `masked_note`.
    """
    key_tokens = tokens if key_tokens is None else key_tokens
    L, H, T, K = attentions.shape
    percent = np.rint(np.clip(attentions, 0, 1) * 100).astype(np.uint8)  # (L, H, T, K)
    if masked is not None:
        percent = np.where(np.asarray(masked, dtype=bool), np.nan, percent).astype(np.float32)
    z = percent.transpose(0, 2, 1, 3).reshape(L * T, H * K)  # (L*T, H*K): layer-major rows, head-major columns
    names, key_names = [label(t) for t in tokens], [label(t) for t in key_tokens]
    # Category axes with one unique label per row / column, so hover names the layer,
    # head and both tokens; the axis ticks show only "layer l" / "head h".
    y = np.array([f"layer {l + 1} · query {i}: {names[i]}" for l in range(L) for i in range(T)], dtype=str)
    x = np.array([f"head {h + 1} · key {j}: {key_names[j]}" for h in range(H) for j in range(K)], dtype=str)
    trace = dict(
        type="heatmap",
        z=z,
        x=x,
        y=y,
        zmin=0,
        zmax=100,
        colorscale=spelled_scale("Blues"),
        showscale=False,
        hovertemplate="%{y}<br>%{x}<br>attention %{z}%<extra></extra>",
    )
    if masked is not None:
        trace["hoverongaps"] = False
    white = dict(color="white", width=3)
    lines = [
        dict(type="line", xref="x", yref="paper", x0=h * K - 0.5, x1=h * K - 0.5, y0=0, y1=1, line=white)
        for h in range(1, H)
    ]
    lines += [
        dict(type="line", xref="paper", yref="y", x0=0, x1=1, y0=l * T - 0.5, y1=l * T - 0.5, line=white)
        for l in range(1, L)
    ]
    layout = dict(
        modebar=MODEBAR,
        title=dict(text=title, x=0.01),
        font=FONT,
        shapes=lines,
        plot_bgcolor="white" if masked is None else MASKED_GREY,
        margin=dict(l=10, r=MODEBAR_ROOM, t=60 if title else 30, b=10),
        height=min(1000, max(260, 70 + L * map_px)),
        dragmode=False,
        xaxis=dict(
            type="category",
            automargin=True,
            side="top",
            tickmode="array",
            tickvals=[str(x[h * K + K // 2]) for h in range(H)],
            ticktext=[f"head {h + 1}" for h in range(H)],
            showgrid=False,
        ),
        yaxis=dict(
            type="category",
            automargin=True,
            autorange="reversed",
            tickmode="array",
            tickvals=[str(y[l * T + T // 2]) for l in range(L)],
            ticktext=[f"layer {l + 1}" for l in range(L)],
            showgrid=False,
        ),
    )
    if masked is not None:  # the note, where a legend would stand: the grid's one trace has none
        layout["annotations"] = [
            dict(text=f"grey: {label(masked_note)}", showarrow=False, x=0, y=0, xref="paper", yref="paper",
                 xanchor="left", yanchor="top", yshift=-4, font=dict(size=11, color="#555"))
        ]  # fmt: skip
        layout["margin"]["b"] = 30
    return {"data": [trace], "layout": layout}


def lines(
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    *,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
    y_range: tuple[float, float] | None = None,
) -> dict:
    """One line with markers per named series over shared x labels (None leaves a gap), as a spec."""
    x = [label(t) for t in x_labels]
    traces = [
        dict(
            type="scatter",
            x=x,
            y=[None if v is None else float(v) for v in values],
            mode="lines+markers",
            name=label(name),
            hovertemplate=label(name) + ": %{y:.2f}<extra>%{x}</extra>",
        )
        for name, values in series.items()
    ]
    layout = dict(
        modebar=MODEBAR,
        title=dict(text=title, x=0.01),
        font=FONT,
        margin=dict(l=10, r=MODEBAR_ROOM, t=40 if title else 10, b=10),
        height=320,
        plot_bgcolor="white",
        legend=dict(orientation="h", y=-0.25),
        xaxis=dict(title=dict(text=x_title), type="category", automargin=True),
        yaxis=dict(title=dict(text=y_title), automargin=True),
    )
    if y_range:
        layout["yaxis"]["range"] = list(y_range)
    return {"data": traces, "layout": layout}


def message(text: str, height: int = 160) -> dict:
    """An empty frame that says, inside it, what it needs to show something."""
    return {
        "data": [],
        "layout": dict(
            modebar=MODEBAR,
            height=height,
            margin=dict(l=10, r=MODEBAR_ROOM, t=10, b=10),
            xaxis=dict(visible=False),
            yaxis=dict(visible=False),
            annotations=[
                dict(text=label(text), showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=15))
            ],
        ),
    }


def heatmap_png(
    z: np.ndarray,
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    path,
    *,
    title: str = "",
    x_title: str = "",
    y_title: str = "",
) -> None:
    """The same matrix as a PNG file drawn by matplotlib (no browser needed), row 0 at the top."""
    # Not at the top: matplotlib costs every process 0.3 s and 23 MB, for the translation's export only.
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
