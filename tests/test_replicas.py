"""Two replicas of the app behind a real nginx (deploy/nginx.conf.template), a small class at the
proxy: every answer arrives, each student stays on one replica, and both replicas serve.
`python bench/replicas.py` runs the full class and prints the figures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import REPO, require

pytestmark = pytest.mark.bundled


def test_two_replicas_behind_nginx_serve_a_class_with_sticky_sessions():
    require(shutil.which("nginx") is not None, "nginx is not installed (apt-get install -y nginx)")
    done = subprocess.run(
        [sys.executable, "bench/replicas.py", "--students", "8", "--seconds", "15", "--ramp", "2"],
        cwd=REPO, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.stdout.strip(), done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])["replicas"]
    assert report["errors"] == 0, report["error_samples"]
    assert report["students_at_nginx"] == 8 and report["students_on_two_replicas"] == 0, report
    assert all(r["requests_at_nginx"] > 0 for r in report["per_replica"]), report["per_replica"]
    assert all(e["requests"] >= 1 for e in report["per_endpoint"].values()), report
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
