"""A newcomer's first minutes in a real Chromium: outputs follow the input (examples, typing,
Enter), error badges go as soon as the input changes, no toast from typing or another tab's
first paint, and figures in a sub-tab hidden while the input changed fill their frame."""

import time

import pytest
from test_browser import click_tab, type_into, wait_for

from browser import SCREENSHOTS, chromium

pytestmark = [pytest.mark.browser, pytest.mark.bundled]

TOASTS = "return document.querySelectorAll('.toast-body').length"
ERROR_BADGES = (
    "return [...document.querySelectorAll(arguments[0] + ' *')].filter("
    "e => e.children.length === 0 && e.innerText && e.innerText.trim() === 'Error' && e.offsetParent !== null"
    " && !e.closest('.toast-body, .toast-wrap')).length"  # the toast of the failed Enter itself is no badge
)


@pytest.fixture(scope="module")
def page(app_url):
    driver = chromium()
    try:
        driver.get(app_url)
        # the Lesson is the first tab (issue 15): its first paint says the page has answered
        wait_for(driver, "return document.querySelector('#lesson-status')?.innerText?.includes('words')", timeout=120)
        yield driver
    finally:
        driver.quit()


def test_no_toast_from_first_paints_or_typing(page):
    time.sleep(2)  # every tab's first paint has run by now
    assert page.execute_script(TOASTS) == 0
    click_tab(page, "Tags")
    wait_for(page, "return document.querySelector('#tag-status')?.innerText?.includes('tagged')", what="tags")
    type_into(page, "#tag-text textarea", "")
    wait_for(page, "return document.querySelector('#tag-status').innerText.includes('empty')", what="empty message")
    type_into(page, "#tag-text textarea", "Dogs bark.")
    wait_for(page, "return document.querySelector('#tag-status').innerText.includes('3 tokens tagged')", what="retyped")
    assert page.execute_script(TOASTS) == 0


def test_translation_follows_examples_typing_and_enter(page):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    from explorer.views.translation import EXAMPLES

    click_tab(page, "Translation attention")
    output = "return document.querySelector('#translate-output textarea, #translate-output input').value"
    wait_for(page, output + ".length > 0", what="first translation")
    first = page.execute_script(output)
    page.execute_script(
        "for (const b of document.querySelectorAll('button')) if (b.innerText.trim() === arguments[0]) { b.click(); return; }",
        EXAMPLES[2],
    )  # an example click alone translates: no button press
    wait_for(page, output + ".includes('Frau')", what="the clicked example translated")
    assert "Frau" in page.execute_script(output) and page.execute_script(output) != first

    box = page.find_element(By.CSS_SELECTOR, "#translate-text input, #translate-text textarea")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(Keys.ENTER)  # Enter on an empty box: the batched endpoint answers in the status line
    wait_for(page, "return document.querySelector('#translate-status').innerText.includes('empty')", what="empty")
    assert page.execute_script(output) == ""  # nothing left from the sentence before
    assert "\n" not in box.get_attribute("value")  # Enter does not add a newline
    assert page.execute_script(ERROR_BADGES, "body") == 0  # a message, not red error marks on every output
    box.send_keys("Two dogs play in the snow.")
    wait_for(page, output + ".includes('Hunde')", what="typed sentence translated")
    time.sleep(1)
    assert "empty" not in page.execute_script("return document.querySelector('#translate-status').innerText")
    page.save_screenshot(str(SCREENSHOTS / "translation_after_typing.png"))


def test_a_hidden_sub_tab_draws_its_figure_at_full_width(page):
    click_tab(page, "Batch layout")
    type_into(page, "#batch-text textarea", "the cat sat\nhi there\na much longer sentence here .")
    wait_for(page, "return document.querySelector('#batch-summary').innerText.includes('B = 3 sentences')")
    time.sleep(1)
    click_tab(page, "Mask")  # hidden while the input changed
    time.sleep(1.5)
    widths = page.execute_script(
        "return [...document.querySelectorAll('.js-plotly-plot')].filter(e => e.offsetParent !== null)"
        ".map(e => [Number(e.querySelector('svg.main-svg').getAttribute('width')), e.parentElement.offsetWidth])"
    )
    assert widths and all(svg >= 0.9 * frame for svg, frame in widths), widths


def test_the_screenshot_script_makes_one_clean_picture_per_tab(app_url, tmp_path):
    import importlib.util

    from explorer import VIEWS

    from conftest import REPO

    spec = importlib.util.spec_from_file_location("screenshots", REPO / "tools" / "screenshots.py")
    screenshots = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(screenshots)
    paths = screenshots.take(app_url, tmp_path)
    assert [p.name for p in paths] == [f"{v.api_name}.png" for v in VIEWS]
    for path in paths:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 30_000, path
