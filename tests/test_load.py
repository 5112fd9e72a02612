"""The load test's short mode (a classroom of 6 students x 20 s on all five endpoints, own and
board sentences): no request lost, memory steady. `python bench/load_test.py` runs the full
classroom (50 x 90 s, page opens against a bare page) and prints the figures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO

pytestmark = pytest.mark.bundled


def test_short_load_test_loses_no_request():
    done = subprocess.run(
        [sys.executable, "bench/load_test.py", "--short"], cwd=REPO, capture_output=True, text=True, timeout=600
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])["load_test"]
    assert report["errors"] == 0, report["error_samples"]
    assert report["requests"] >= 15 and all(e["requests"] >= 1 for e in report["per_endpoint"].values()), report
    assert report["rss_growth"] < 0.10, report
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
