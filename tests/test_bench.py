"""`python -m bench --quick --no-http` runs and reports every figure, each positive and finite.

No timing thresholds here: the speed goals are checked by the benchmark's own printout.
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer import VIEWS as ALL_VIEWS

pytestmark = pytest.mark.bundled
REPO = Path(__file__).resolve().parent.parent

VIEWS = [f"{v.api_name}/{size}" for v in ALL_VIEWS for size in v.bench_sizes]  # every view, its standard sizes
EXPECTED = {  # where in report["figures"] -> the figures there
    ("memory",): ["load_models_s", "rss_bench_mb"],  # and which models: one MiniLM, shared
    ("packing",): [
        "padded_forward_ms",
        "packed_forward_ms",
        "padded_forward_backward_ms",
        "packed_forward_backward_ms",
        "max_state_difference",
    ],
    ("cold_start",): ["app_s", "imports_s", "ratio"],
    **{("views", view): ["view_ms", "floor_ms", "plots_json_ms", "overhead"] for view in VIEWS},
    **{("payload", size): ["view_bytes", "bertviz_bytes", "ratio"] for size in ("20", "60")},
}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-http", "--threads", "1", "--json", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "goals met" in run.stdout and json.loads(run.stdout.strip().splitlines()[-1]) == json.loads(out.read_text())
    return json.loads(out.read_text())


def test_every_figure_is_there_positive_and_finite(report):
    for where, names in EXPECTED.items():
        section = report["figures"]
        for key in where:
            section = section[key]
        for name in names:
            value = section[name]
            assert isinstance(value, (int, float)) and math.isfinite(value) and value > 0, (where, name, value)
    assert "round_trips" not in report["figures"]  # --no-http
    assert report["figures"]["memory"]["models"] == [
        "embeddings",
        "encoder",
        "minilm",
        "nli",
        "tagger",
        "translator/attention",
        "translator/no_attention",
        "translator/transformer",
    ]


def test_every_goal_is_checked_and_the_device_named(report):
    goals = {row["figure"] for row in report["goals"]}
    assert {f"view overhead {view}" for view in VIEWS} <= goals
    assert {"cold start", "payload self_attention/20", "payload self_attention/60", "RSS bench process (MB)"} <= goals
    for row in report["goals"]:
        assert row["met"] == (row["value"] <= row["goal"]) and (row["met"] or row["gap"] > 0)
    assert report["machine"]["device"] in ("cpu", "cuda", "cuda:0") or report["machine"]["device"].startswith("cuda")
