"""HTTP round trips through gradio_client, against the app's do-nothing /ping endpoint.

round trip / (ping round trip + the same work in process): 1 would mean the server adds
nothing beyond one empty API call on top of the view's own work.
"""
from __future__ import annotations

from pathlib import Path

from .timing import interleaved

# The API arguments of each view's endpoint for one standard input (see app.py and explorer/*.tab).
ENDPOINTS = {
    "batch": ("/batch", lambda text: (text,)),
    "tags": ("/tag", lambda text: (text, 8)),
    "translation": ("/translate", lambda text: (text, 1)),
    "self_attention": ("/self_attention", lambda text: (text, "", "", False, 1, 1)),
    "nli": ("/nli", lambda premise, hypothesis: (premise, hypothesis)),
}


def measure(url: str, inputs: dict, in_process_ms: dict, repeats: int, warmup: int, downloads: Path) -> dict:
    """{"ping_ms": ..., "<view>/<size>": {"round_trip_ms", "in_process_ms", "ratio"}}; the warm-up
    round also loads each view's models in the server, so it is not counted."""
    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False, download_files=str(downloads))
    runs = {"ping": lambda: client.predict(api_name="/ping")}
    for view, sizes in inputs.items():
        api_name, arguments = ENDPOINTS[view]
        for size, (args, _) in sizes.items():
            runs[f"{view}/{size}"] = lambda api_name=api_name, payload=arguments(*args): client.predict(*payload, api_name=api_name)
    t = interleaved(runs, repeats, warmup)
    ping = t.pop("ping")
    figures = {"ping_ms": ping * 1000}
    for key, seconds in t.items():
        inside = in_process_ms[key] / 1000
        figures[key] = {"round_trip_ms": seconds * 1000, "in_process_ms": inside * 1000, "ratio": seconds / (ping + inside)}
    return figures
