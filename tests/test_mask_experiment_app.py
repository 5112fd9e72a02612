"""/batch_training end to end: gradio_client against `python app.py` (the default runs served
from the warm-up, a custom run trained and kept, bad settings answered in one line), and a real
Chromium opening the section by a deep link, training another seed with its progress shown."""

import json
import time
from urllib.parse import parse_qs, urlparse

import pytest

from explorer.views.batching.analysis import example_batch

from conftest import answer

pytestmark = pytest.mark.bundled
DEFAULTS = {"batch_size": 32, "steps": 150, "learning_rate": 0.01, "sort_by_length": False, "seed": 0}


def test_the_default_runs_come_from_the_warm_up_and_a_custom_run_is_kept(client):
    t0 = time.perf_counter()
    status, curves, table = client.predict(example_batch(), *DEFAULTS.values(), api_name="/batch_training")[:3]
    assert time.perf_counter() - t0 < 30  # not three trainings: the warm-up did them (they take longer under CI)
    assert "seed 0, 150 steps of 32 sentences" in status and "flatter it" in status
    assert [t["name"] for t in json.loads(curves["plot"])["data"][:3]] == ["masked + packed"] * 3
    assert [row[0] for row in table["data"]] == ["masked + packed", "masked + padded", "unmasked + padded"]
    custom = {**DEFAULTS, "steps": 20, "seed": 5, "sort_by_length": True}
    first = client.predict(example_batch(), *custom.values(), api_name="/batch_training")
    assert "seed 5, 20 steps" in first[0] and "batches sorted by length" in first[0]
    again = client.predict("dogs/NOUN bark/VERB", *custom.values(), api_name="/batch_training")
    assert again[2]["data"] == first[2]["data"]  # another batch, the same kept runs
    files = client.predict(api_name="/batch_training_export")
    assert sorted(f.rsplit("/", 1)[-1] for f in files) == ["curves.csv", "settings.json"]


def test_a_kept_answer_does_not_wait_behind_a_training(client):
    long = {**DEFAULTS, "batch_size": 64, "steps": 600, "seed": 4321}  # seconds of training on any machine
    job = client.submit(example_batch(), *long.values(), api_name="/batch_training")
    time.sleep(1.0)  # the training has started
    status = client.predict("dogs/NOUN bark/VERB", *DEFAULTS.values(), api_name="/batch_training")[0]
    assert "seed 0, 150 steps" in status and not job.done()  # the defaults came while it trained
    assert "seed 4321, " in job.result(timeout=600)[0]


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({"batch_size": 1000}, "batch_size must be a whole number from 2 to 64"),
        ({"steps": "many"}, "steps must be a whole number from 10 to 600"),
        ({"learning_rate": 5}, "learning_rate must be a number from 0.0001 to 0.1"),
        ({"seed": -1}, "seed must be a whole number from 0 to 10000"),
        ({"sort_by_length": "perhaps"}, "sort_by_length must be true or false"),
    ],
)
def test_bad_settings_get_one_clear_line(client, inputs, message):
    kind, text = answer(client, "/batch_training", {"text": example_batch(), **DEFAULTS, **inputs})
    assert kind == "message" and message in text, text


@pytest.mark.browser
def test_the_section_in_chromium_by_a_link_then_another_seed_with_its_progress(app_url):
    from test_browser import wait_for

    from browser import SCREENSHOTS, chromium

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = chromium()
    try:
        driver.set_window_size(1400, 1800)
        driver.get(app_url + "?view=batch&section=batch_training&steps=30&seed=11&sorted=1")
        status = "(document.querySelector('#batch_training-status')?.innerText || '')"
        wait_for(driver, f"return {status}.includes('seed 11, 30 steps')", timeout=240, what="the linked training")
        assert driver.execute_script("return document.querySelector('#batch-training-sort input').checked")
        driver.execute_script("document.querySelector('#batch_training-button').scrollIntoView()")
        time.sleep(1)
        driver.save_screenshot(str(SCREENSHOTS / "batch_training.png"))
        driver.execute_script(
            "const box = document.querySelector('#batch-training-seed input');"
            "const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
            "set.call(box, '12'); box.dispatchEvent(new Event('input', {bubbles: true}));"
            "box.dispatchEvent(new Event('change', {bubbles: true}));"
            "document.querySelector('#batch_training-button').click();"
        )
        wait_for(
            driver,
            "return [...document.querySelectorAll('.progress-text')].some(e => e.innerText.includes('Training run'))"
            f" || {status}.includes('seed 12')",
            timeout=120,
            what="the training's progress",
        )
        wait_for(driver, f"return {status}.includes('seed 12, 30 steps')", timeout=240, what="the new seed's runs")
        table = driver.execute_script("return document.querySelector('#batch-training-table').innerText")
        assert all(run in table for run in ("masked + packed", "masked + padded", "unmasked + padded")), table
        driver.save_screenshot(str(SCREENSHOTS / "batch_training_seed12.png"))
        wait_for(driver, "return location.search.includes('seed=12')", timeout=30, what="the settings in the URL")
        query = {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}
        assert query["view"] == "batch" and query["section"] == "batch_training", query
        assert (query["seed"], query["steps"], query["sorted"], query["batch_size"]) == ("12", "30", "1", "32")
        driver.get(driver.current_url)  # the copied link opens the same runs (kept: no training)
        wait_for(driver, f"return {status}.includes('seed 12, 30 steps')", timeout=120, what="the copied link")
    finally:
        driver.quit()
