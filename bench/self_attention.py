"""How much the self-attention view costs beyond the encoder, for a 30-piece input.

    HF_HUB_OFFLINE=1 python bench/self_attention.py            # timings + payload sizes
    HF_HUB_OFFLINE=1 python bench/self_attention.py --no-http  # skip starting app.py

1. time: the view's compute (analyze: tokenize + forward with attentions + head statistics,
   then figures: grid, zoom, table, and the JSON gr.Plot sends) over the bare encoder forward (same eager model,
   already-tokenized input, no attentions requested). Medians and minima of interleaved
   runs: on a shared CPU the minima are the least disturbed.
2. bytes: what /self_attention sends for that input (app.py started on a free port,
   the SSE answer of gradio's HTTP API counted) over bertviz's own head_view HTML
   (bertviz.head_view(..., html_action="return")) and over our embedded, rounded head view.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# -- settings ---------------------------------------------------------------------------
PIECES = 30  # word pieces incl. [CLS] / [SEP]
REPEATS = 40
WORDS = ("the cat sat on the mat because it was tired and the dog slept by the door while rain fell "
         "on the old roof of the small house near the river").split()


def sentence_of(encoder, pieces: int) -> str:
    """The longest prefix of WORDS that tokenizes to exactly `pieces` word pieces."""
    for n in range(1, len(WORDS) + 1):
        text = " ".join(WORDS[:n]) + "."
        count = len(encoder.encode(text)["input_ids"][0])
        if count == pieces:
            return text
        if count > pieces:
            break
    raise SystemExit(f"no prefix of WORDS has exactly {pieces} pieces")


def timings(encoder, text: str, repeats: int = REPEATS) -> dict:
    import torch

    from explorer import figures as fg
    from explorer import self_attention as sa

    enc = encoder.encode(text)
    enc.pop("offset_mapping")

    def bare():
        with torch.inference_mode():
            encoder.model(**enc)

    def view():  # everything the /self_attention handler computes, up to the JSON gr.Plot sends
        f = sa.figures(sa.analyze(text, encoder=encoder), 1, 1)
        fg.plotly_json(f["grid"]), fg.plotly_json(f["zoom"])

    def analyze_only():
        sa.analyze(text, encoder=encoder)

    r = sa.analyze(text, encoder=encoder)

    def figures_only():
        f = sa.figures(r, 1, 1)
        fg.plotly_json(f["grid"]), fg.plotly_json(f["zoom"])

    runs = {"bare forward": bare, "view (analyze+figures+JSON)": view, "analyze only": analyze_only, "figures + JSON only": figures_only}
    for fn in runs.values():  # warm-up
        fn(), fn()
    samples = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so a busy neighbour slows all alike
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: (statistics.median(s), min(s)) for name, s in samples.items()}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api_bytes(text: str) -> int:
    """Bytes of the SSE answer to one /self_attention call on a fresh app.py."""
    port = free_port()
    env = dict(os.environ, GRADIO_SERVER_PORT=str(port))
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/gradio_api/call/self_attention"
    try:
        for _ in range(360):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        body = json.dumps({"data": [text, "", "", False, 1, 1]}).encode()
        sizes = []
        for _ in range(2):  # the first call also loads the model; count the second
            request = urllib.request.Request(base, data=body, headers={"Content-Type": "application/json"})
            event_id = json.load(urllib.request.urlopen(request, timeout=120))["event_id"]
            answer = urllib.request.urlopen(f"{base}/{event_id}", timeout=120).read()
            if b"event: error" in answer:
                raise SystemExit(answer[:500])
            sizes.append(len(answer))
        return sizes[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-http", action="store_true", help="skip the app.py payload measurement")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()

    import torch
    from bertviz import head_view

    from explorer import self_attention as sa
    from explorer.safe_html import bertviz_iframe
    from models import load_encoder

    if args.threads:
        torch.set_num_threads(args.threads)
    encoder = load_encoder()
    text = sentence_of(encoder, PIECES)
    print(f"input ({PIECES} word pieces): {text!r}")
    print(f"device {encoder.device}, torch threads {torch.get_num_threads()}, {args.repeats} interleaved repeats, medians")
    t = timings(encoder, text, args.repeats)
    print(f"  {'':28s} {'median':>10s} {'min':>10s}")
    for name, (median, best) in t.items():
        print(f"  {name:28s} {median * 1000:7.2f} ms {best * 1000:7.2f} ms")
    view, bare = t["view (analyze+figures+JSON)"], t["bare forward"]
    print(f"time ratio  view / bare forward = {view[0] / bare[0]:.2f} (medians), {view[1] / bare[1]:.2f} (minima)  (goal <= 1.3)")

    r = sa.analyze(text, encoder=encoder)
    original = head_view([torch.from_numpy(a[None]) for a in r.attentions], r.tokens, html_action="return").data
    ours = bertviz_iframe("head", r.tokens, r.attentions)
    original_bytes, ours_bytes = len(original.encode()), len(ours.encode())
    print(f"bertviz head_view HTML (bertviz 1.4.1, as it ships): {original_bytes:,} bytes")
    print(f"our embedded head view (rounded, params once, srcdoc-escaped): {ours_bytes:,} bytes")
    if not args.no_http:
        sent = api_bytes(text)
        print(f"/self_attention answer (grid + zoom + table + status, SSE over HTTP): {sent:,} bytes")
        print(f"bytes ratio default view / bertviz head_view = {sent / original_bytes:.3f}  (goal <= 0.2)")
        print(f"bytes ratio default view / our embedded head view = {sent / ours_bytes:.3f}")


if __name__ == "__main__":
    main()
