"""The Across-a-corpus tab end to end: gradio_client against `python app.py` (its endpoint and
three sections, bad input, markup), and a real Chromium opening each section by a deep link and
listing a confusion cell's errors by clicking it."""

from __future__ import annotations

import json
import time

import pytest

from conftest import answer

pytestmark = pytest.mark.bundled


def plot(value) -> dict:
    return json.loads(value["plot"])


def test_corpus_endpoint_reads_your_sentence_with_the_syntax_heads(client):
    status, heads, scores = client.predict("My sister bought a red car.", api_name="/corpus")[:3]
    assert "7 words" in status and "det 81 % vs 59 % by position" in status
    columns = heads["headers"]
    assert columns[0] == "word" and any("det" in c for c in columns)
    assert ["Tagger (BiLSTM)", "UD EWT test"] == scores["data"][0][:2]


def test_each_section_answers_through_its_endpoint(client):
    out = client.predict("The dog chased a ball.", "obj", "dep_to_head", 3, 1, 2, api_name="/corpus_syntax_heads")
    assert out[0].startswith("layer 3, head 1: 74.0 % of EWT dev's obj dependents")
    assert "obj (dependent → head)" in plot(out[1])["layout"]["title"]["text"]
    out = client.predict("tagger", "NOUN", "PROPN", "confident", api_name="/corpus_errors")
    assert "131 errors (gold NOUN, predicted PROPN)" in out[0]
    rows = out[3]
    assert rows["headers"][:4] == ["open", "word", "gold", "predicted"] and len(rows["data"]) == 131
    assert all(r[2:4] == ["NOUN", "PROPN"] for r in rows["data"])
    files = client.predict(api_name="/corpus_errors_export")
    assert sorted(f.rsplit("/", 1)[-1] for f in files) == ["confusion.csv", "errors.csv"]
    out = client.predict("work", "", "corpus", 6, api_name="/corpus_contexts")
    assert "“work” in 24 sentences" in out[0] and "NOUN and VERB centres" in out[0]
    names = {t["name"] for t in plot(out[2])["data"]}
    assert names == {"NOUN", "VERB"}


@pytest.mark.parametrize(
    "api_name, inputs, message",
    [
        ("/corpus", {"text": "Hi"}, "at least two words"),
        ("/corpus", {"text": "word " * 80}, "the limit is 64"),
        (
            "/corpus_syntax_heads",
            {"text": "A dog.", "relation": "subject", "direction": "dep_to_head", "layer": 3, "head": 9, "example": 0},
            "relation must be one of",
        ),  # fmt: skip
        (
            "/corpus_errors",
            {"model": "parser", "gold": "any", "predicted": "any", "order": "unsure"},
            "model must be one of",
        ),  # fmt: skip
        (
            "/corpus_errors",
            {"model": "tagger", "gold": "<b>", "predicted": "any", "order": "unsure"},
            "gold must be one of",
        ),  # fmt: skip
        (
            "/corpus_errors",
            {"model": "tagger", "gold": "entailment", "predicted": "any", "order": "unsure"},
            "The gold label must be one of any, ADJ",
        ),
        (
            "/corpus_contexts",
            {"word": "bank", "sentences": "no such word\nhere either", "source": "yours", "layer": 6},
            "is not a word of the sentence",
        ),  # fmt: skip
    ],
)
def test_bad_input_gets_one_clear_line(client, api_name, inputs, message):
    kind, text = answer(client, api_name, inputs)
    assert kind == "message" and message in text, text
    assert "<b>" not in text
    assert "7 words" in client.predict("My sister bought a red car.", api_name="/corpus")[0]  # still serving


def test_markup_in_the_words_comes_back_as_text(client):
    out = client.predict(
        "<b>bank</b>", "the <b>bank</b> of it\nmy <b>bank</b>", "yours", 6, api_name="/corpus_contexts"
    )
    assert "&lt;b&gt;bank" in out[0] and "<b>" not in out[0]
    assert "<b>" not in plot(out[1])["layout"]["title"]["text"]


@pytest.mark.browser
def test_corpus_tab_in_chromium_opens_each_section_and_lists_a_cells_errors(app_url):
    from selenium.webdriver.common.by import By
    from test_browser import wait_for

    from browser import SCREENSHOTS, chromium, outside_requests, requested_urls

    driver = chromium()
    try:
        driver.set_window_size(1280, 900)
        driver.get(app_url + "?view=corpus&section=corpus_syntax_heads&text=The+cat+ate+the+fish.&relation=obj"
                   "&direction=dep_to_head&layer=3&head=1&example=4")  # fmt: skip
        wait_for(
            driver,
            "return (document.querySelector('#corpus_syntax_heads-status')?.innerText || '').includes('obj dependents')",
            timeout=180,
            what="the linked syntax-heads section",
        )
        title = driver.execute_script("return document.querySelector('#syntax-corpus-sentence .gtitle').textContent")
        assert title == "layer 3, head 1 on an EWT dev sentence"
        driver.execute_script("document.querySelector('#syntax-grid').scrollIntoView()")
        time.sleep(1)
        driver.save_screenshot(str(SCREENSHOTS / "corpus_syntax_heads_1280x900.png"))

        # A link that names another model keeps its filters (choosing the model must not reset them).
        driver.get(app_url + "?view=corpus&section=corpus_errors&model=nli:breaking_nli&gold=contradiction"
                   "&predicted=entailment")  # fmt: skip
        status = "return document.querySelector('#corpus_errors-status')?.innerText || ''"
        wait_for(driver, f"{status[:-6]}.includes('(gold contradiction, predicted entailment)')", timeout=120,
                 what="the linked NLI errors")  # fmt: skip
        time.sleep(3)  # any event the link's filling set off has run by now
        predicted = driver.execute_script(
            "return Array.from(document.querySelectorAll('#errors-rows [data-col=\"2\"]')).map(c => c.innerText)"
        )
        assert predicted and set(predicted) == {"entailment"}, predicted
        driver.get(app_url + "?view=corpus&section=corpus_errors&model=tagger&gold=ADJ&predicted=NOUN")
        wait_for(driver, f"{status[:-6]}.includes('(gold ADJ, predicted NOUN)')", timeout=120, what="the linked errors")
        # A click on the counts table's VERB row, PROPN column (after the label column) lists those errors.
        target = driver.find_element(By.CSS_SELECTOR, '#errors-cells [data-testid="cell-15-12"]')  # VERB, PROPN
        assert target.text == "2"
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", target)
        target.click()
        wait_for(driver, f"{status[:-6]}.includes('(gold VERB, predicted PROPN)')", timeout=60, what="the clicked cell")
        driver.save_screenshot(str(SCREENSHOTS / "corpus_errors_1280x900.png"))

        # Markup typed into the sentence stays text in the table (no element, no script).
        driver.get(app_url + "?view=corpus&text=%3Cimg+src%3Dx+onerror%3D%22window.__alerted%3D1%22%3E+saw+the+dog")
        wait_for(driver, "return (document.querySelector('#corpus-your-heads')?.innerText || '').includes('0: <')",
                 timeout=60, what="the hostile sentence's table")  # fmt: skip
        assert driver.execute_script("return document.querySelector('#corpus-your-heads img') === null")

        driver.get(app_url + "?view=corpus&section=corpus_contexts&word=work&source=corpus&projected=6")
        wait_for(
            driver,
            "return (document.querySelector('#corpus_contexts-status')?.innerText || '').includes('in 24 sentences')",
            timeout=120,
            what="the linked contexts section",
        )
        driver.execute_script("document.querySelector('#contexts-similarity').scrollIntoView()")
        time.sleep(1)
        driver.save_screenshot(str(SCREENSHOTS / "corpus_contexts_1280x900.png"))
        assert outside_requests(requested_urls(driver)) == []
        assert driver.execute_script("return window.__alerted === undefined")
    finally:
        driver.quit()
