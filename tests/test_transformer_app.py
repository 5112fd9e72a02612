"""/transformer end to end: gradio_client against `python app.py` (the translation, the three
attentions, the GRU beside it, its sections and Export; bad input), and a real Chromium drawing
the tab at a projector's and a phone's size, opened by a deep link and by the lesson's step."""

import json
import time
from pathlib import Path

import pytest

from conftest import answer, require_bundled_translator

pytestmark = pytest.mark.bundled


@pytest.fixture(autouse=True, scope="module")
def translator_bundled():
    require_bundled_translator()


def plot(value) -> dict:
    return json.loads(value["plot"])


def test_transformer_endpoint_translates_and_draws_its_three_attentions(client):
    out = client.predict(
        text="A man is riding a bike.", beam_size=1, kind="decoder", layer=2, head=3, api_name="/transformer"
    )
    translation, status, cross, encoder, decoder, zoom, average, layer, head = out[:9]
    assert "Mann" in translation and "Fahrrad" in translation
    assert "3 layers × 4 heads" in status and "Agreement" in status
    assert "Decoder masked self-attention, layer 2, head 3" in plot(zoom)["layout"]["title"]["text"]
    assert "mean of its heads" in plot(average)["layout"]["title"]["text"]
    assert (layer["maximum"], head["maximum"]) == (3, 4)  # the sliders' ranges read from the model
    assert "masked: y may not look ahead" in json.dumps(plot(decoder))  # the grid says what grey means
    assert any("Agreement" in str(v) for v in out)  # the GRU beside it, with the number
    files = client.predict(api_name="/transformer_export")
    names = sorted(Path(f).name for f in files)
    assert names == ["alignment.csv", "attentions.json", "word_alignment.csv"]
    frame = client.predict(api_name="/transformer_bertviz")[1]
    assert frame.startswith('<iframe sandbox="allow-scripts"') and "Cross" in frame


def test_the_history_section_shows_an_epoch_and_its_bleu(client):
    status, alignment, bleu = client.predict(epoch=20, caption=0, api_name="/transformer_history")[:3]
    assert status.startswith("Epoch 20 of 20: val BLEU 36.43")
    assert "Epoch 20" in plot(alignment)["layout"]["title"]["text"]
    kind, message = answer(client, "/transformer_history", {"epoch": 0, "caption": 0})
    assert kind == "message" and "epoch must be a whole number from 1 to 20" in message


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({"text": ""}, "empty"),
        ({"text": "word " * 70}, "the limit is 60"),
        ({"beam_size": 99}, "beam_size must be a whole number from 1 to 8"),
        ({"kind": "sideways"}, "kind must be one of"),
        ({"layer": 9}, "layer must be a whole number from 1 to 3"),
    ],
)
def test_bad_input_gets_one_clear_line(client, inputs, message):
    sent = {"text": "A dog runs.", "beam_size": 1, "kind": "cross", "layer": 2, "head": 1, **inputs}
    kind, text = answer(client, "/transformer", sent)
    assert kind == "message" and message in text, text
    assert "Hund" in client.predict("A dog runs.", 1, "cross", 2, 1, api_name="/transformer")[0]


def test_markup_and_other_scripts_come_back_as_text(client):
    out = client.predict("<img src=x onerror=alert(1)> 犬が走る", 1, "cross", 2, 1, api_name="/transformer")
    status = out[1]
    assert "<img" not in status  # escaped (or unknown): never markup
    assert "<img" not in json.dumps(out[2])


@pytest.mark.browser
def test_transformer_tab_in_chromium_at_a_projector_and_a_phone(app_url):
    from test_browser import wait_for

    from browser import SCREENSHOTS, chromium, outside_requests, requested_urls

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = chromium()
    try:
        driver.set_window_size(1280, 720)
        driver.get(app_url + "?view=transformer&text=Two+dogs+play+in+the+snow.&kind=decoder&layer=3&head=2&step=3")
        wait_for(
            driver,
            "return (document.querySelector('#transformer-status')?.innerText || '').includes('Agreement')"
            " && (document.querySelector('#transformer-zoom .gtitle')?.textContent || '').includes('layer 3, head 2')",
            timeout=180,
            what="the linked Transformer tab",
        )
        wait_for(
            driver,
            "return (document.querySelector('#transformer-decoder-step .gtitle')?.textContent || '').startsWith('t = 3')",
            timeout=60,
            what="the linked decoding step",
        )
        assert "Hunde" in driver.execute_script("return document.querySelector('#transformer-output textarea').value")
        driver.save_screenshot(str(SCREENSHOTS / "transformer_1280x720.png"))
        driver.execute_script("document.querySelector('#transformer-zoom').scrollIntoView()")
        time.sleep(1)
        driver.save_screenshot(str(SCREENSHOTS / "transformer_zoom_1280x720.png"))
        driver.execute_script("document.querySelector('#transformer_history-button').scrollIntoView();"
                              "document.querySelector('#transformer_history-button').click()")  # fmt: skip
        wait_for(
            driver,
            "return (document.querySelector('#transformer_history-status')?.innerText || '').includes('val BLEU')",
            what="the history section",
        )
        driver.save_screenshot(str(SCREENSHOTS / "transformer_history_1280x720.png"))
        assert outside_requests(requested_urls(driver)) == []
        driver.set_window_size(390, 844)
        driver.execute_script("window.scrollTo(0, 0)")
        time.sleep(1)
        driver.save_screenshot(str(SCREENSHOTS / "transformer_390x844.png"))
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1  # nothing sticks out sideways on a phone
    finally:
        driver.quit()
