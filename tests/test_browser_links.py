"""Deep links, the Lesson's buttons and Copy link in a real Chromium: a link opens its tab with the
values it names (checked as shown: the boxes, the sliders, the figures' titles), the URL follows
what the user changes, a hostile query string runs nothing and changes no title, and each lesson
step's button opens its tab with its preset."""

from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from test_browser import click_tab, type_into, wait_for

from browser import SCREENSHOTS, chromium, outside_requests, requested_urls

pytestmark = [pytest.mark.browser, pytest.mark.bundled]

TITLE = "Sequence-model explorer"
SELECTED = (
    "return [...document.querySelectorAll('button[role=tab][aria-selected=true]')].map(b => b.innerText.trim())[0]"
)


# The value a box, slider or radio group shows: a radio group's is its checked choice (its
# first input is only the first choice).
SHOWN = (
    "const root = document.querySelector(arguments[0]); if (!root) return null;"
    " const radios = root.querySelectorAll('input[type=radio]');"
    " const e = radios.length ? root.querySelector('input[type=radio]:checked') : root.querySelector('textarea, input');"
    " return e ? e.value : null;"
)


def value(driver, elem_id: str):
    return driver.execute_script(SHOWN, f"#{elem_id}")


def text(driver, elem_id: str) -> str:
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", f"#{elem_id}"
    )


def plot_title(driver, elem_id: str) -> str:
    return driver.execute_script(
        "const t = document.querySelector(arguments[0] + ' .gtitle'); return t ? t.textContent : '';", f"#{elem_id}"
    )


def shows(driver, elem_id: str, expected: str, timeout: float = 60) -> None:
    """Wait until the box, slider or radio group `elem_id` shows `expected` (a link's boxes fill one by one)."""
    wait_for(
        driver,
        shown_is(elem_id, expected),
        timeout=timeout,
        what=f"#{elem_id} = {expected!r}",
    )


def shown_is(elem_id: str, expected: str) -> str:
    """A script for wait_for: true once `elem_id` shows `expected` (SHOWN, as one self-contained script)."""
    shown = SHOWN.replace("arguments[0]", json.dumps("#" + elem_id))
    return f"return ((() => {{ {shown} }})()) === {json.dumps(expected)};"


def query(driver) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(driver.current_url).query).items()}


def open_link(driver, app_url: str, params: dict, ready: str, what: str):
    driver.get(app_url + "?" + urlencode(params))
    wait_for(driver, "return document.querySelectorAll('button[role=tab]').length >= 6", timeout=120, what="tabs")
    wait_for(driver, ready, timeout=240, what=what)
    time.sleep(2)  # the browser's fill step and the view's rerun after it


@pytest.fixture(scope="module")
def driver():
    d = chromium()
    try:
        yield d
    finally:
        d.quit()


SENTENCE = "A man is sleeping on a bench while a dog watches him."


def test_a_link_restores_each_view(driver, app_url):
    urls = []
    # Self-attention: the sentence, layer 3, head 7, merged words, and the comparison with input B
    open_link(
        driver,
        app_url,
        {
            "view": "self_attention",
            "text": "The cat sat on the mat.",
            "layer": 3,
            "head": 7,
            "text2": "The dog sat on the mat.",
        },
        "return document.querySelector('#attn-compare-status')?.innerText.includes('Layer 3, head 7')",
        "self-attention link",
    )
    assert driver.execute_script(SELECTED) == "Self-attention"
    assert (
        value(driver, "attn-text") == "The cat sat on the mat."
        and value(driver, "attn-compare-text") == "The dog sat on the mat."
    )
    assert value(driver, "attn-layer") == "3" and value(driver, "attn-head") == "7"
    assert plot_title(driver, "attn-zoom").startswith("Layer 3, head 7")
    assert "9 word pieces" in text(driver, "attn-status")
    assert "8 line up" in text(driver, "attn-compare-status")  # one word differs
    assert query(driver)["layer"] == "3" and query(driver)["text2"] == "The dog sat on the mat."
    driver.save_screenshot(str(SCREENSHOTS / "link_self_attention.png"))
    urls += requested_urls(driver)

    # Translation: the sentence, beam 2 and decoding step 3
    open_link(
        driver,
        app_url,
        {"view": "translate", "text": SENTENCE, "beam": 2, "step": 3},
        "return document.querySelector('#translate-step-plot .gtitle')?.textContent.startsWith('t = 3')",
        "translation link",
    )
    assert driver.execute_script(SELECTED) == "Translation attention"
    shows(driver, "translate-text", SENTENCE)
    assert value(driver, "translate-beam") == "2"
    assert value(driver, "translate-step") == "3"
    assert "beam search (k = 2)" in text(driver, "translate-status")
    assert plot_title(driver, "translate-step-plot").startswith("t = 3")

    # Tags: the text and top-k 5
    open_link(
        driver,
        app_url,
        {"view": "tag", "text": "Dogs bark loudly.", "k": 5},
        "return document.querySelector('#tag-status')?.innerText.includes('4 tokens tagged')",
        "tags link",
    )
    assert driver.execute_script(SELECTED) == "Tags"
    shows(driver, "tag-text", "Dogs bark loudly.")
    assert value(driver, "tag-k") == "5"
    wait_for(
        driver, "return document.querySelector('#tag-probs .gtitle')?.textContent.includes('the 5 tags')", what="top-5"
    )

    # Batch: two lines
    open_link(
        driver,
        app_url,
        {"view": "batch", "text": "the cat sat\nhi"},
        "return document.querySelector('#batch-summary')?.innerText.includes('B = 2 sentences')",
        "batch link",
    )
    assert driver.execute_script(SELECTED) == "Batch layout"
    shows(driver, "batch-text", "the cat sat\nhi")
    assert "lengths = [3, 1]" in text(driver, "batch-summary")

    # NLI: a pair, and a second pair to compare with
    premise = "Several women stand on a platform near the yellow line."
    open_link(
        driver,
        app_url,
        {
            "view": "nli",
            "text": premise,
            "text_b": premise.replace("yellow", "red"),
            "text2": premise,
            "text2_b": premise,
        },
        "return document.querySelector('#nli-compare-status')?.innerText.includes('Lined up')",
        "NLI link",
    )
    assert driver.execute_script(SELECTED) == "NLI alignment"
    shows(driver, "nli-premise", premise)
    shows(driver, "nli-hypothesis", premise.replace("yellow", "red"))
    time.sleep(2)  # the rerun after the last fill
    words = re.search(r"(\d+) premise words × (\d+) hypothesis words", text(driver, "nli-status"))
    assert words and words[1] == words[2]  # the linked pair, not the default one: one word swapped
    lined = re.search(r"(\d+) of (\d+) hypothesis words", text(driver, "nli-compare-status"))
    assert lined and int(lined[1]) == int(lined[2]) - 1  # every hypothesis word lines up but the swapped one

    # Lesson: the words of the one-hot vs embeddings view
    open_link(
        driver,
        app_url,
        {"view": "lesson", "text": "king queen apple"},
        "return document.querySelector('#lesson-status')?.innerText.includes('3 words')",
        "lesson link",
    )
    assert driver.execute_script(SELECTED) == "Lesson"
    shows(driver, "lesson-words", "king queen apple")
    assert "all 0" in text(driver, "lesson-status")  # distinct one-hot vectors are orthogonal
    urls += requested_urls(driver)
    assert outside_requests(urls) == []


def test_the_url_follows_the_view_and_copy_link_gives_it(driver, app_url):
    driver.get(app_url)
    wait_for(driver, "return document.querySelector('#lesson-status')?.innerText.includes('words')", timeout=240)
    time.sleep(1)
    assert urlparse(driver.current_url).query == ""  # a page without a link keeps its plain URL
    click_tab(driver, "Tags")
    wait_for(driver, "return document.querySelector('#tag-status')?.innerText.includes('tagged')", timeout=120)
    type_into(driver, "#tag-text textarea", "Cats sleep.")
    wait_for(driver, "return document.querySelector('#tag-status').innerText.includes('3 tokens tagged')", what="typed")
    time.sleep(1)
    assert query(driver) == {"view": "tag", "text": "Cats sleep.", "k": "8"}
    driver.execute_script("document.querySelector('#tag-copy-link').click()")
    wait_for(
        driver, "return document.querySelector('#tag-link input, #tag-link textarea').value.length > 0", what="link box"
    )
    assert value(driver, "tag-link") == driver.current_url
    # the copied link, opened fresh, shows the same view
    driver.get(value(driver, "tag-link"))
    wait_for(driver, "return document.querySelector('#tag-status')?.innerText.includes('3 tokens tagged')", timeout=240)
    shows(driver, "tag-text", "Cats sleep.")
    assert driver.execute_script(SELECTED) == "Tags"


HOSTILE = (
    "<img src=x onerror=\"window.__xss_link=1;document.title='pwned'\"> <script>window.__xss_link=2</script> "
    "[x](javascript:window.__xss_link=3) cat"
)


def test_a_hostile_query_string_runs_nothing(driver, app_url):
    open_link(
        driver,
        app_url,
        {
            "view": "self_attention",
            "text": HOSTILE,
            "text_b": '</script><svg onload="window.__xss_link=4">',
            "layer": 999,
            "head": "7; alert(1)",
            "merge": "maybe",
            "<b>bogus</b>": "1",
        },
        "return document.querySelector('#self_attention-link-notice')?.innerText.includes('999')",
        "notices of a hostile link",
    )
    notice = text(driver, "self_attention-link-notice")
    assert "layer" in notice and "head" in notice and "merge" in notice and "bogus" in notice
    wait_for(driver, "return document.querySelector('#attn-status').innerText.includes('word pieces')", timeout=120)
    assert value(driver, "attn-layer") == "1" and value(driver, "attn-head") == "1"  # the defaults
    shows(driver, "attn-text", HOSTILE)  # shown as text in its box
    time.sleep(2)
    assert driver.execute_script("return window.__xss_link") is None
    assert driver.title == TITLE
    injected = driver.execute_script(
        "return [...document.querySelectorAll('img[src=x], svg[onload], b')].filter(e => e.closest('.link-notice')).length"
    )
    assert injected == 0

    # an unknown view and an oversize text: the first tab, a notice, and no analysis of the text
    open_link(
        driver,
        app_url,
        {"view": "nope<script>", "text": "x"},
        "return document.querySelector('#lesson-link-notice')?.innerText.includes('does not exist')",
        "unknown view notice",
    )
    assert driver.execute_script(SELECTED) == "Lesson" and driver.title == TITLE
    open_link(
        driver,
        app_url,
        {"view": "tag", "text": "a " * 3000},
        "return document.querySelector('#tag-link-notice')?.innerText.includes('the limit is 5000')",
        "oversize notice",
    )
    from explorer.views.tagging import EXAMPLES

    assert value(driver, "tag-text") == EXAMPLES[0]  # the default, analysed from the cache
    assert driver.execute_script("return window.__xss_link") is None and driver.title == TITLE
    driver.save_screenshot(str(SCREENSHOTS / "link_hostile.png"))


def test_each_lesson_button_opens_its_tab_with_its_preset(driver, app_url):
    import app
    from explorer import VIEWS
    from explorer.views.lesson import STEPS

    titles = {v.api_name: v.title for v in VIEWS}
    driver.get(app_url)
    wait_for(driver, "return document.querySelector('#lesson-status')?.innerText.includes('words')", timeout=240)
    for number, step in enumerate(STEPS, start=1):
        click_tab(driver, "Lesson")
        wait_for(driver, f"return document.querySelector('#lesson-step-{number}') !== null", what=f"button {number}")
        driver.execute_script(f"document.querySelector('#lesson-step-{number}').click()")
        wait_for(driver, SELECTED + f" === {json.dumps(titles[step.view])}", timeout=60, what=f"step {number}'s tab")
        ids = {name: component.elem_id for name, component in app.demo.painters[step.view].params.items()}
        for name, preset in step.values.items():
            if name == "section":  # the step opens a section computed: its status line is written
                wait_for(driver, f"return document.querySelector('#{preset}-status')?.innerText.length > 0",
                         timeout=240, what=f"step {number}: section {preset}")  # fmt: skip
                continue
            wait_for(
                driver,
                shown_is(ids[name], str(preset)),
                timeout=180,
                what=f"step {number}: {name} = {preset!r}",
            )
        wait_for(driver, "return !document.body.innerText.includes('processing |')", timeout=180, what="drawn")
        time.sleep(1)
        assert query(driver)["view"] == step.view, (number, driver.current_url)
        if number == 8:  # the tired / wide pair: the comparison is open and drawn
            assert "Layer 4, head 2" in text(driver, "attn-compare-status")
            driver.save_screenshot(str(SCREENSHOTS / "lesson_step_8.png"))
    assert driver.title == TITLE
