"""What one more page open costs the server: CPU seconds of the app's process while a real
Chromium opens the page and every tab's first paint arrives, against a bare Gradio page with
five tabs (bench/bare_page.py) measured the same way in the same run.

    python bench/page_open.py              # 1 visit to warm up, then 3 measured visits of each
    python bench/page_open.py --visits 5
    python bench/page_open.py --reload     # one browser that reloads: its scripts are cached (issue 24)

The app is measured after its warm-up (models loaded, first paints and examples in the answer
cache), as a class finds it once the teacher has opened it. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tools"))  # tools/screenshots.py

import psutil  # noqa: E402
from screenshots import browser, wait  # noqa: E402

from bench.startup import App, child_env  # noqa: E402

DRAWN = {  # the first tab's first paint has arrived (hidden tabs are not in the page until opened)
    "app.py": "return document.querySelector('#lesson-status')?.textContent?.includes('one-hot')",
    "bench/bare_page.py": "return document.querySelectorAll('button[role=tab]').length === 5"
    " && document.querySelector('#one-status') !== null",
}


def cpu_seconds(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def visit_costs(server: App, script: str, visits: int, reload: bool = False) -> list[float]:
    """CPU seconds of a running server per page open, one per measured visit (after one unmeasured):
    each by a fresh browser, or (reload) by one browser that opens the page again with its scripts
    and styles cached, as a reload or a second tab does."""
    costs, kept = [], browser() if reload else None
    try:
        for k in range(visits + 1):
            driver = kept or browser()
            try:
                time.sleep(1.0)  # let the server settle
                before = cpu_seconds(server.process.pid)
                driver.get(server.url)
                wait(driver, DRAWN[script], 240, f"the first paints of {script}")
                time.sleep(3.0)  # the other tabs' first paints, plot relayouts, heartbeats
                after = cpu_seconds(server.process.pid)
            finally:
                if kept is None:
                    driver.quit()
            if k:  # the first visit warms the browser and the server's static files up
                costs.append(after - before)
    finally:
        if kept is not None:
            kept.quit()
    return costs


def wait_for_warm_up(server: App, timeout: float = 600) -> None:
    """Until the app's warm-up thread says it is done (its models loaded, its first paints cached)."""
    deadline = time.time() + timeout
    while "warm-up done" not in server.log.read_text() and time.time() < deadline:
        time.sleep(0.5)


def measure(script: str, visits: int, warm: bool, reload: bool = False) -> list[float]:
    """Start `script`, wait for it (and for its warm-up, with warm), and measure `visits` page opens."""
    log = Path(tempfile.mkdtemp(prefix="page-open-")) / "server.log"
    server = App(child_env(), log, script)
    try:
        server.wait()
        if warm:
            wait_for_warm_up(server)
        return visit_costs(server, script, visits, reload)
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--reload", action="store_true", help="one browser, its page's scripts cached")
    args = parser.parse_args(argv)
    bare = measure("bench/bare_page.py", args.visits, warm=False, reload=args.reload)
    app = measure("app.py", args.visits, warm=True, reload=args.reload)
    report = {"visits": args.visits, "reload": args.reload, "bare_cpu_s": bare, "app_cpu_s": app,
              "bare_median_s": statistics.median(bare), "app_median_s": statistics.median(app)}  # fmt: skip
    report["ratio"] = report["app_median_s"] / report["bare_median_s"]
    print("| page | server CPU s per page open (median) | visits |")
    print("|---|---|---|")
    print(f"| bare five-tab Gradio page | {report['bare_median_s']:.2f} | {', '.join(f'{c:.2f}' for c in bare)} |")
    print(f"| the app, after its warm-up | {report['app_median_s']:.2f} | {', '.join(f'{c:.2f}' for c in app)} |")
    print(f"ratio app / bare: {report['ratio']:.2f} (goal <= 1.5)")
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
