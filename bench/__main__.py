"""Measure every view against its floor; print a table and one JSON object.

    python -m bench                       # everything (several minutes on a small CPU)
    python -m bench --quick --no-http     # a smoke test: few repeats, no API round trips
    python -m bench --threads 1 --device cpu --json bench.json
    python -m bench --only inside --threads 1   # only issue 14's analyses (bench/inside.py)

Each figure is the median of repeated runs in this process (or of the processes it starts);
ratios are what matter, since the absolute times depend on the machine and its load. The
table goes to stdout, then the JSON object on the last line; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import psutil

# Before anything imports gradio or transformers: offline, no analytics.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from . import goals  # noqa: E402

FULL = dict(view_repeats=25, http_repeats=15, start_repeats=3, warmup=2)
QUICK = dict(view_repeats=3, http_repeats=3, start_repeats=1, warmup=1)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def machine(device) -> dict:
    import gradio  # not at the top: see main (--help imports neither)
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "gradio": gradio.__version__,
        "date": date.today().isoformat(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default), in MB (10^6 bytes)."""
    return psutil.Process(pid).memory_info().rss / 1e6


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke test, not a measurement")
    parser.add_argument(
        "--no-http", action="store_true", help="skip the API round trips (the app is still started for the cold start)"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch CPU threads here and in the app (0: torch's default)"
    )
    parser.add_argument("--device", default="", help="cpu | cuda | cuda:N (default: models.pick_device())")
    parser.add_argument("--json", type=Path, help="also write the JSON object to this file")
    parser.add_argument(
        "--only",
        choices=["inside"],
        help="inside: only the analyses inside self-attention and the saliency sections (no app, no views)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL

    if args.device:
        os.environ["EXPLORER_DEVICE"] = args.device
    # Not at the top: `python -m bench --help` and a bad argument answer at once, without
    # importing torch, gradio and every view (5 s here).
    import torch

    from models import pick_device

    try:
        device = pick_device()
    except ValueError as err:
        parser.error(str(err))
    if args.threads < 0:
        parser.error("--threads must be 0 (torch's default) or more")
    if args.threads:
        torch.set_num_threads(args.threads)

    from explorer import VIEWS  # as torch above: after the arguments are checked
    from explorer.views.self_attention import analysis as self_attention
    from models.runtime import RUNTIME

    from . import inside, packing, payload, roundtrip, startup, views

    work = Path(tempfile.mkdtemp(prefix="bench-"))
    env = startup.child_env(args.threads, args.device, cache=False)  # repeated inputs: no cached answers
    report: dict = {"machine": machine(device), "settings": {"quick": args.quick, "http": not args.no_http, **plan}}
    figures: dict = {}
    say(f"device {device}, torch threads {torch.get_num_threads()}; files in {work}")

    if args.only == "inside":
        shutil.rmtree(work, ignore_errors=True)  # no app is started, so nothing is written there
        return inside_only(report, plan, args.json)

    say("loading every view's models (models.runtime, as the app does) ...")
    start = time.perf_counter()
    for view in VIEWS:
        views.view_models(view, RUNTIME)
    figures["memory"] = {"load_models_s": time.perf_counter() - start, "models": RUNTIME.loaded()}

    say("views against their floors ...")
    cases = views.cases(VIEWS, RUNTIME)  # runs each view once on each input
    report["inputs"] = {f"{c.view}/{c.size}": c.inputs for c in cases}
    figures["memory"]["rss_bench_mb"] = rss_mb()  # before the timing loops leave their garbage
    figures["views"] = views.measure(cases, plan["view_repeats"], plan["warmup"])

    say("inside self-attention and saliency against their floors ...")
    figures["inside"], report["inputs_inside"] = inside.measure(RUNTIME, plan["view_repeats"], plan["warmup"])

    say("packed vs padded BiLSTM ...")
    batch = next(c for c in cases if c.view == packing.VIEW)
    figures["packing"] = packing.measure(RUNTIME.get("tagger"), batch.inputs["text"], plan["view_repeats"])

    say("self-attention payload ...")
    figures["payload"] = {}
    encoder = RUNTIME.get("encoder")
    payload_cases = [c for c in cases if c.view == payload.VIEW]
    for case in payload_cases:
        result = self_attention.analyze(case.inputs["text"], "", encoder)
        in_process = payload.view_bytes_in_process(result)
        figures["payload"][str(case.size)] = {
            "view_bytes": in_process,
            "view_bytes_in_process": in_process,
            "bertviz_bytes": payload.bertviz_bytes(result),
        }

    say("cold start ...")
    figures["cold_start"], app = startup.cold_start(plan["start_repeats"], env, work, keep_last=not args.no_http)
    if app is not None:
        try:
            say("round trips through gradio_client ...")
            in_process = {key: v["view_ms"] for key, v in figures["views"].items()}
            downloads = work / "downloads"
            downloads.mkdir()
            figures["round_trips"] = roundtrip.measure(
                app.url, VIEWS, cases, in_process, plan["http_repeats"], plan["warmup"], downloads
            )
            for case in payload_cases:  # what the server really sends
                figures["payload"][str(case.size)]["view_bytes"] = payload.view_bytes_http(app.url, case.inputs["text"])
            figures["memory"]["rss_app_mb"] = rss_mb(app.process.pid)
        finally:
            app.stop()
    for sizes in figures["payload"].values():
        sizes["ratio"] = sizes["view_bytes"] / sizes["bertviz_bytes"]
    report["payload_measured"] = "in process (--no-http)" if args.no_http else "HTTP answer of /self_attention"
    report["figures"] = figures
    report["goals"] = goals.check(figures)

    print(goals.table(report))
    text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)  # kept when something failed: the app's logs are there
    return report


def inside_only(report: dict, plan: dict, json_path: Path | None) -> dict:
    """python -m bench --only inside: issue 14's analyses against their floors, nothing else."""
    from models.runtime import RUNTIME  # not at the top: see main

    from . import inside

    say("inside self-attention and saliency against their floors ...")
    figures, report["inputs_inside"] = inside.measure(RUNTIME, plan["view_repeats"], plan["warmup"])
    report["figures"] = {"inside": figures}
    report["goals"] = goals.check(report["figures"])
    print(goals.table(report))
    text = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
    print(text)
    if json_path:
        json_path.write_text(text + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as err:  # the app did not start or answer: say why, without a traceback
        sys.exit(f"python -m bench: {err}")
