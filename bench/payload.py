"""What the self-attention view sends, against bertviz's own head view of the same input.

bertviz.head_view(..., html_action="return") is the HTML page bertviz makes (all layers and
heads, weights as JSON with full float precision); the default view is the /self_attention
answer: the layers x heads grid, one zoomed head, the head-statistics table and a status line.
"""

from __future__ import annotations

import json
import urllib.request

import torch
from bertviz import head_view

from explorer.core import figures as fg
from explorer.views.self_attention import analysis as sa

VIEW = "self_attention"  # the view whose answer is weighed against bertviz's HTML


def bertviz_bytes(result) -> int:
    """Bytes of bertviz's head_view HTML for a SelfAttentionResult (as bertviz ships, unrounded)."""
    attention = [torch.from_numpy(a[None]) for a in result.attentions]  # per layer (1, H, T, T)
    return len(head_view(attention, result.tokens, html_action="return").data.encode())


def view_bytes_in_process(result) -> int:
    """Bytes of the default view's outputs as JSON (the plots as gr.Plot sends them, the table as rows)."""
    f = sa.figures(result, 1, 1)
    table = f["table"]
    parts = [
        fg.plotly_json(f["grid"]),
        fg.plotly_json(f["zoom"]),
        f["status"],
        json.dumps({"headers": [str(c) for c in table.columns], "data": table.values.tolist()}, default=str),
    ]
    return sum(len(p.encode()) for p in parts)


def view_bytes_http(url: str, text: str) -> int:
    """Bytes of the SSE answer to one /self_attention call through gradio's HTTP API."""
    base = f"{url}gradio_api/call/self_attention"
    body = json.dumps({"data": [text, "", "", False, 1, 1]}).encode()
    request = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        event_id = json.load(answer)["event_id"]
    with urllib.request.urlopen(f"{base}/{event_id}", timeout=300) as answer:
        data = answer.read()
    if b"event: error" in data:
        raise RuntimeError(f"/self_attention failed: {data[:500]!r}")
    return len(data)
