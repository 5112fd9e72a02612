"""training/train_transformer.py: a tiny run trains, stops, resumes where it stopped and writes a loadable folder."""

import subprocess
import sys

import numpy as np

from models.text import read_json
from models.translator import load_translator
from training.multi30k import multi30k_path
from training.train_transformer import learning_rate

from conftest import REPO, require

TINY = [
    *("--train_limit 64 --eval_limit 4 --vocab 300 --d_model 16 --heads 2 --encoder_layers 1".split()),
    *("--decoder_layers 1 --d_ff 32 --batch_size 32 --warmup_steps 2 --average_max 2 --threads 1".split()),
]


def run(*flags):
    return subprocess.run(
        [sys.executable, "-m", "training.train_transformer", *TINY, *flags],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_learning_rate_warms_up_then_decays_as_one_over_sqrt_step():
    assert learning_rate(50, 1e-3, 100) == 5e-4
    assert learning_rate(100, 1e-3, 100) == 1e-3
    assert np.isclose(learning_rate(400, 1e-3, 100), 5e-4)


def test_a_tiny_run_resumes_and_writes_a_translator(tmp_path):
    require(multi30k_path("train", "en").exists(), "Multi30k not found in ../shared/data (EXPLORER_DATA)")
    work, out = tmp_path / "work", tmp_path / "out"
    first = run("--epochs", "2", "--max_minutes", "0", "--work", str(work), "--out", str(out))
    assert first.returncode == 0, first.stderr[-2000:]
    assert "time budget" in first.stdout and not out.exists()  # stopped after epoch 1 of 2, nothing bundled yet
    second = run("--epochs", "2", "--work", str(work), "--out", str(out))
    assert second.returncode == 0, second.stderr[-2000:]
    assert "resuming after epoch 1" in second.stdout
    config = read_json(out / "config.json")
    assert [h["epoch"] for h in config["history"]] == [1, 2]
    assert config["scores"]["averaged_epochs"] in (1, 2)
    history = read_json(out / "attention_history.json")
    assert [e["epoch"] for e in history["epochs"]] == [1, 2]
    layers = np.array(history["epochs"][0]["sentences"][0]["cross_attention"])
    assert layers.shape[0] == 1 and len(history["source_tokens"]) == 5
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "python -m training.train_transformer" in card and "| 2 |" in card
    t = load_translator(variant="transformer", folder=out).translate("A man rides a bike.")
    assert t.cross_attention.shape[:2] == (1, 2)
