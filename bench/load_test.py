"""A classroom hitting one server: N gradio_client clients mixing the five endpoints.

    python bench/load_test.py                  # 50 clients x 60 s, with and without batching
    python bench/load_test.py --short          # 6 clients x 10 s, batching on (CI runs this)
    python bench/load_test.py --clients 20 --seconds 30 --batching off

For each setting, `python app.py` starts on a free 127.0.0.1 port (EXPLORER_BATCHING=1 or 0),
the same load runs for a third of the time as a warm-up (models loaded, buffers grown: that is
the "before" RSS), then each client loops over the endpoints, starting at a different one,
until the time is up.
Printed: requests, errors, p50/p95 latency per endpoint and overall, requests/s, and the
server's RSS before and after the load. The last line is one JSON object; the exit status
is 1 when any request failed or RSS grew by 10 % or more.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run as a script: `bench` is importable from the repository root

from bench.startup import App, child_env  # noqa: E402 (the same app starter as python -m bench)


def calls() -> dict[str, list[tuple]]:
    """Each view's endpoint with the first two of its examples (valid inputs: errors here are failures)."""
    from explorer import VIEWS

    return {f"/{view.api_name}": [tuple(view.api_args(e)) for e in view.examples[:2]] for view in VIEWS}


RSS_GROWTH_LIMIT = 0.10


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def connect(url: str, clients: int) -> list:
    """One gradio_client session per student (made in parallel, as a class opens the page)."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    with ThreadPoolExecutor(max_workers=min(clients, 16)) as pool:
        return list(pool.map(lambda _: Client(url, verbose=False), range(clients)))


def hammer(sessions: list, seconds: float) -> tuple[dict[str, list[float]], list[str], float]:
    """Each session in its own thread calls the endpoints in turn until `seconds` have passed.
    Returns latencies per endpoint, errors, elapsed seconds."""
    requests = calls()
    names = list(requests)
    latencies: dict[str, list[float]] = {name: [] for name in names}
    errors: list[str] = []
    lock = threading.Lock()
    go = threading.Event()
    stop_at = [0.0]

    def student(index: int) -> None:
        client = sessions[index]
        go.wait()
        step = index
        while time.time() < stop_at[0]:
            name = names[step % len(names)]
            inputs = requests[name][(step // len(names)) % len(requests[name])]
            step += 1
            t0 = time.perf_counter()
            try:
                out = client.predict(*inputs, api_name=name)
                # A batched endpoint answers a failed request in its status output instead of raising.
                refused = [
                    v for v in (out if isinstance(out, tuple) else (out,)) if isinstance(v, str) and v.startswith("⚠️")
                ]
                if refused:
                    raise RuntimeError(refused[0])
            except Exception as err:  # noqa: BLE001 - counted, not raised: the run must finish
                with lock:
                    errors.append(f"{name}: {type(err).__name__}: {str(err)[:200]}")
                continue
            with lock:
                latencies[name].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=student, args=(i,), daemon=True) for i in range(len(sessions))]
    for t in threads:
        t.start()
    start = time.time()
    stop_at[0] = start + seconds
    go.set()
    for t in threads:
        t.join(timeout=seconds + 300)
    return latencies, errors, time.time() - start


def run_setting(clients: int, seconds: float, batching: bool) -> dict:
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"load_test_app_{'batch' if batching else 'plain'}.log"
    app = App({**child_env(), "EXPLORER_BATCHING": "1" if batching else "0"}, log_path)
    app.wait()
    proc, url = app.process, app.url
    try:
        rss_start = rss_mb(proc.pid)
        # Warm-up: the same students under the same load for a third of the time (at least 10 s),
        # so "before" is a server whose models are loaded, whose buffers and thread pools have
        # grown to this load, and which holds each student's session state.
        sessions = connect(url, clients)
        _, warm_errors, _ = hammer(sessions, max(10.0, seconds / 3))
        rss_before = rss_mb(proc.pid)
        latencies, errors, elapsed = hammer(sessions, seconds)
        errors = warm_errors + errors
        rss_after = rss_mb(proc.pid)
    finally:
        app.stop()

    every = [x for values in latencies.values() for x in values]
    return {
        "batching": batching,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(every),
        "errors": len(errors),
        "error_samples": errors[:5],
        "requests_per_s": round(len(every) / elapsed, 2),
        "p50_s": round(percentile(every, 0.5), 3),
        "p95_s": round(percentile(every, 0.95), 3),
        "per_endpoint": {
            name: {"requests": len(v), "p50_s": round(percentile(v, 0.5), 3), "p95_s": round(percentile(v, 0.95), 3)}
            for name, v in latencies.items()
        },
        "rss_mb_at_start": round(rss_start),
        "rss_mb_before": round(rss_before),
        "rss_mb_after": round(rss_after),
        "rss_growth": round(rss_after / rss_before - 1, 4),
    }


def table(results: list[dict]) -> str:
    lines = [
        "| batching | clients | s | requests | errors | req/s | p50 s | p95 s | RSS before → after MB (growth) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {'on' if r['batching'] else 'off'} | {r['clients']} | {r['seconds']} | {r['requests']} | "
            f"{r['errors']} | {r['requests_per_s']} | {r['p50_s']} | {r['p95_s']} | "
            f"{r['rss_mb_before']} → {r['rss_mb_after']} ({r['rss_growth']:+.1%}) |"
        )
    lines += ["", "| batching | endpoint | requests | p50 s | p95 s |", "|---|---|---|---|---|"]
    for r in results:
        for name, e in r["per_endpoint"].items():
            lines.append(
                f"| {'on' if r['batching'] else 'off'} | {name} | {e['requests']} | {e['p50_s']} | {e['p95_s']} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--batching", choices=("on", "off", "both"), default="both")
    parser.add_argument("--short", action="store_true", help="6 clients for 10 s, batching on (the CI run)")
    args = parser.parse_args(argv)
    if args.short:
        args.clients, args.seconds, args.batching = 6, 10, "on"
    settings = {"on": [True], "off": [False], "both": [True, False]}[args.batching]
    results = [run_setting(args.clients, args.seconds, batching) for batching in settings]
    print(table(results))
    for r in results:
        for sample in r["error_samples"]:
            print("error:", sample)
    print(
        json.dumps(
            {
                "load_test": results,
                "cpu_count": os.cpu_count(),
                "median_p50_s": statistics.median(r["p50_s"] for r in results),
            }
        )
    )
    failed = any(r["errors"] or r["rss_growth"] >= RSS_GROWTH_LIMIT for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
