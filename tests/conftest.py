"""Shared fixtures and the rule for missing prerequisites.

In CI (CI=true) a test whose prerequisite (../shared/data, chromium) is missing FAILS,
so a green run means everything really ran; on a user's machine it is skipped with the reason.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def require(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI prerequisite missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tiny_tagger():
    from fakes import tiny_tagger as make

    return make()


@pytest.fixture(scope="session")
def bundled_tagger():
    from models import load_tagger

    return load_tagger()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


APP_LOGS: dict[str, Path] = {}  # app_url -> the file that holds its stdout and stderr


def app_log(url: str) -> str:
    """What the app at `url` (the app_url fixture) has written to its console so far."""
    return APP_LOGS[url].read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="session")
def app_url(tmp_path_factory):
    """`python app.py` in a subprocess on a free 127.0.0.1 port; yields its URL."""
    yield from running_app(tmp_path_factory.mktemp("app"), {})


def running_app(folder: Path, env: dict):
    """`python app.py` with `env` added to the environment, on a free 127.0.0.1 port; yields its
    URL once the page answers (its console goes to folder/app.log: app_log), and stops it."""
    import subprocess
    import time
    import urllib.request

    port = free_port()
    log = folder / "app.log"
    served = {"GRADIO_SERVER_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    env = {**os.environ, **served, **env}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    APP_LOGS[url] = log
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"app.py did not answer within 180 s:\n{log.read_text()[-3000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def tiny_nli():
    from fakes import tiny_nli as make

    return make()


@pytest.fixture(scope="session")
def bundled_nli():
    from models import load_nli

    return load_nli()


@pytest.fixture(scope="session")
def tiny_translator():
    from fakes import tiny_translator as make

    return make(attention=True)


@pytest.fixture(scope="session")
def tiny_baseline():
    from fakes import tiny_translator as make

    return make(attention=False, seed=1)


def require_bundled_translator() -> None:
    """The trained translators are bundled; a checkout without them (e.g. no git LFS) skips, CI fails."""
    for variant in ("attention", "no_attention", "transformer"):
        require(
            (REPO / "assets" / "translator" / variant / "model.safetensors").exists(),
            f"translator weights ({variant}) are missing: git checkout -- assets/translator/{variant}",
        )


def answer(client, api_name: str, args: list | dict) -> tuple[str, object]:
    """The endpoint's answer to `args` (by position, or a dict by parameter name): ("message", text) when the app refused the input (a gr.Error, or the status line of a
    batched endpoint, which answers bad input there so the rest of its batch is served),
    ("result", outputs) otherwise."""
    from gradio_client.exceptions import AppError

    try:
        out = (
            client.predict(**args, api_name=api_name)
            if isinstance(args, dict)
            else client.predict(*args, api_name=api_name)
        )
    except AppError as err:
        return "message", str(err)
    values = out if isinstance(out, tuple) else (out,)
    refused = [v for v in values if isinstance(v, str) and v.startswith("⚠️")]
    return ("message", refused[0]) if refused else ("result", out)
