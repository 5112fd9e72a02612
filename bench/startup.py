"""Starting app.py: time until its page answers, against importing the libraries it stands on."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IMPORTS = "import torch, gradio, transformers"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(threads: int = 0, device: str = "", cache: bool = True) -> dict:
    """The environment of every process the bench starts: offline, no analytics, its thread count and device;
    cache=False turns the app's answer cache off (a round trip must measure the work, not a stored answer)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    if not cache:
        env["EXPLORER_CACHE_MB"] = "0"
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)  # torch reads it at start-up for its intra-op threads
    if device:
        env["EXPLORER_DEVICE"] = device
    return env


class App:
    """`python app.py` on a free 127.0.0.1 port, started now; `wait()` returns once its page answers."""

    def __init__(self, env: dict, log: Path, script: str = "app.py"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.started = time.perf_counter()
        with open(log, "w") as out:
            self.process = subprocess.Popen(
                [sys.executable, script],
                cwd=REPO,
                env={**env, "GRADIO_SERVER_PORT": str(self.port)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait(self, timeout: float = 300) -> float:
        """Seconds from the start until GET / answered 200."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"app.py did not answer within {timeout:.0f} s:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# What the app writes to its console as it warms up (explorer/web/serving.py), in the order it
# happens: the cold load test times each from the process start.
MILESTONES = {
    "every model loaded": "warm-up: every model loaded",
    "every first paint cached": "warm-up: every first paint cached",
    "warm-up done": "warm-up done",
}


class Timeline:
    """Seconds from an App's start until its console first showed each of MILESTONES (None: not
    yet, or never: an app that does not say it), read every 50 ms from now until stop()."""

    def __init__(self, app: App, every_s: float = 0.05):
        self.app = app
        self.seen: dict[str, float | None] = dict.fromkeys(MILESTONES)
        self._done = threading.Event()

        def watch() -> None:
            while not self._done.wait(every_s):
                self.read()

        self._thread = threading.Thread(target=watch, name="timeline", daemon=True)
        self._thread.start()

    def read(self) -> None:
        try:
            text = self.app.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return
        now = time.perf_counter() - self.app.started
        for name, line in MILESTONES.items():
            if self.seen[name] is None and line in text:
                self.seen[name] = round(now, 2)

    def stop(self) -> dict[str, float | None]:
        self._done.set()
        self._thread.join()
        return dict(self.seen)


def import_seconds(env: dict) -> float:
    """Seconds for a fresh `python -c "import torch, gradio, transformers"`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS], cwd=REPO, env=env, check=True)
    return time.perf_counter() - start


def cold_start(repeats: int, env: dict, logs: Path, keep_last: bool = False) -> tuple[dict, App | None]:
    """Medians of `repeats` app starts and library imports, taken in turns.

    Returns the figures and, with keep_last, the last app still running (for the round trips).
    """
    apps, imports, kept = [], [], None
    for k in range(repeats):
        imports.append(import_seconds(env))
        app = App(env, logs / f"app-start-{k}.log")
        apps.append(app.wait())
        if keep_last and k == repeats - 1:
            kept = app
        else:
            app.stop()
    app_s, imports_s = statistics.median(apps), statistics.median(imports)
    return {"app_s": app_s, "imports_s": imports_s, "ratio": app_s / imports_s}, kept
