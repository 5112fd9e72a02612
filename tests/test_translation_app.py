"""/translate end to end: gradio_client against `python app.py`, and a real Chromium rendering the view."""

import time

import pytest

from conftest import require_bundled_translator

pytestmark = pytest.mark.bundled


@pytest.fixture(autouse=True, scope="module")
def translator_bundled():
    require_bundled_translator()


def test_translate_endpoint(client):
    out = client.predict("A man rides a bike.", 3, api_name="/translate")
    translation, status, alignment, step, step_plot, written, beams, comparison, confidence, files = out[:10]
    assert "Mann" in translation
    assert "beam search (k = 3)" in status and "source tokens" in status
    assert len(beams["data"]) == 3 and beams["data"][0][1] == translation
    assert len(comparison["data"]) == 2
    assert not files  # written only on request: /translate_export, of this session's last translation
    names = sorted(str(f).rsplit("/", 1)[-1] for f in client.predict(api_name="/translate_export"))
    assert names == ["alignment.csv", "alignment.png"]


@pytest.mark.parametrize(
    "args, message",
    [
        (("", 1), "empty"),
        (("word " * 70, 1), "the limit is 60"),
        (("A man rides a bike.", 99), "beam_size must be a whole number from 1 to 8, got '99'"),
    ],
)
def test_bad_input_gets_a_message_and_server_keeps_serving(client, args, message):
    # /translate is batched: a bad request is answered in its own status line (raising would fail
    # every request queued with it), and its figures are empty.
    out = client.predict(*args, api_name="/translate")
    translation, status, alignment = out[:3]
    assert status.startswith("⚠️") and message in status and not translation and alignment is None
    assert "Hund" in client.predict("A dog runs.", 1, api_name="/translate")[0]


@pytest.mark.browser
def test_translation_view_renders_in_chromium(app_url):
    from test_browser import type_into, wait_for

    from browser import SCREENSHOTS, chromium, outside_requests, requested_urls

    driver = chromium()
    try:
        driver.get(app_url)
        # Click the tab until it exists and its heatmap (drawn by demo.load on page open) is there.
        wait_for(
            driver,
            "for (const b of document.querySelectorAll('button[role=tab]')) "
            "if (b.innerText.trim() === 'Translation attention') b.click(); "
            "return document.querySelectorAll('#translate-alignment .js-plotly-plot .heatmaplayer').length > 0",
            timeout=120,
            what="alignment heatmap",
        )
        type_into(driver, "#translate-text textarea", "Two dogs are playing in the snow near a red <b>house</b>.")
        driver.execute_script("document.querySelector('#translate-go').click()")
        wait_for(
            driver,
            "return document.querySelector('#translate-output textarea').value.includes('Hunde')",
            timeout=120,
            what="translation of the new sentence",
        )
        wait_for(
            driver,
            "return document.querySelector('#translate-status').innerText.includes('target tokens')",
            what="status",
        )
        ticks = driver.execute_script(
            "return [...document.querySelectorAll('#translate-alignment .xtick text')].map(t => t.textContent)"
        )
        assert "</s>" in ticks and any("house" in t for t in ticks), ticks
        wait_for(
            driver,
            "return document.querySelectorAll('#translate-step-plot .js-plotly-plot').length > 0",
            what="step plot",
        )
        wait_for(
            driver,
            "return document.querySelectorAll('#translate-bleu-by-length .js-plotly-plot').length > 0",
            what="BLEU-by-length chart",
        )
        time.sleep(1)
        driver.execute_script("document.querySelector('#translate-alignment').scrollIntoView()")
        time.sleep(0.5)
        driver.save_screenshot(str(SCREENSHOTS / "translation.png"))
        assert driver.execute_script(
            "return document.querySelector('#translate-alignment b') === null"
        )  # markup stayed text
        assert outside_requests(requested_urls(driver)) == []
    finally:
        driver.quit()
