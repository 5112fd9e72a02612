"""HTTP round trips through gradio_client, against the app's do-nothing /ping endpoint.

round trip / (ping round trip + the same work in process): 1 would mean the server adds
nothing beyond one empty API call on top of the view's own work.
"""

from __future__ import annotations

from pathlib import Path

from gradio_client import Client

from .timing import interleaved


def measure(url: str, views, cases, in_process_ms: dict, repeats: int, warmup: int, downloads: Path) -> dict:
    """{"ping_ms": ..., "<view>/<size>": {"round_trip_ms", "in_process_ms", "ratio"}}; the warm-up
    round also loads each view's models in the server, so it is not counted."""
    client = Client(url, verbose=False, analytics_enabled=False, download_files=str(downloads))
    by_name = {view.api_name: view for view in views}
    runs = {"ping": lambda: client.predict(api_name="/ping")}
    for case in cases:
        args = by_name[case.view].api_args(case.inputs)
        runs[f"{case.view}/{case.size}"] = lambda api_name=f"/{case.view}", args=args: client.predict(
            *args, api_name=api_name
        )
    t = interleaved(runs, repeats, warmup)
    ping = t.pop("ping")
    figures = {"ping_ms": ping * 1000}
    for key, seconds in t.items():
        inside = in_process_ms[key] / 1000
        figures[key] = {
            "round_trip_ms": seconds * 1000,
            "in_process_ms": inside * 1000,
            "ratio": seconds / (ping + inside),
        }
    return figures
