"""Script and markup typed into every text input of every tab, in a real Chromium: none of it
runs (no global set, the title unchanged, no element injected), each view shows it as text
or answers with a message, and no request leaves 127.0.0.1 during the whole session."""

from __future__ import annotations

import json
import time

import pytest
from test_browser import click_tab, type_into, wait_for

from browser import SCREENSHOTS, chromium, outside_requests, requested_urls

pytestmark = [pytest.mark.browser, pytest.mark.bundled]

# tab -> text inputs (elem_id, the element that shows the view answered)
INPUTS = {
    "Batch layout": [("batch-text", "#batch-summary")],
    "Tags": [("tag-text", "#tag-status")],
    "Translation attention": [("translate-text", "#translate-status")],
    "Self-attention": [("attn-text", "#attn-status"), ("attn-text-b", "#attn-status"), ("attn-model", "#attn-status")],
    "NLI alignment": [("nli-premise", "#nli-status"), ("nli-hypothesis", "#nli-status")],
}


# After its check, a field that shares its view with a later one gets a plain value back, so the
# next field's payload changes the view's answer (two payloads can give the same message).
RESTORE = {"attn-text": "The cat sat on the mat.", "attn-text-b": "", "nli-premise": "A dog runs in the park."}


def payload(marker: str) -> str:
    """Markup that would set window.__xss_<marker>, change the title or add an element, if it ever ran."""
    return (
        f"a <img src=x onerror=\"window.__xss_{marker}=1;document.title='pwned'\"> b "
        f'<script>window.__xss_{marker}=2</script> <svg onload="window.__xss_{marker}=3"></svg> '
        f'<iframe srcdoc="<script>parent.__xss_{marker}=4</script>"></iframe> [x](javascript:window.__xss_{marker}=5) c'
    )


def test_payloads_in_every_input_run_nowhere(app_url):
    driver = chromium()
    urls: list[str] = []
    try:
        driver.get(app_url)
        wait_for(driver, "return document.querySelectorAll('button[role=tab]').length >= 5", timeout=120, what="tabs")
        title = "Sequence-model explorer"
        assert driver.title == title
        typed = 0
        for tab, inputs in INPUTS.items():
            click_tab(driver, tab)
            for elem_id, answer in inputs:
                marker = elem_id.replace("-", "_")
                selector = f"#{elem_id} textarea, #{elem_id} input"
                wait_for(driver, f"return document.querySelector('{selector}') !== null", timeout=120, what=elem_id)
                before = driver.execute_script(f"return document.querySelector('{answer}').innerText")
                box = driver.execute_script(
                    f"return document.querySelector('#{elem_id} textarea') ? '#{elem_id} textarea' : '#{elem_id} input'"
                )
                type_into(driver, box, payload(marker))
                if elem_id == "translate-text":  # translation runs on the button (or Enter), not while typing
                    driver.execute_script("document.querySelector('#translate-go').click()")
                elif elem_id == "attn-model":  # a model name loads on Enter
                    from selenium.webdriver.common.by import By
                    from selenium.webdriver.common.keys import Keys

                    driver.find_element(By.CSS_SELECTOR, box).send_keys(Keys.ENTER)
                # the view answered: a new result, or its status line says what was wrong
                wait_for(
                    driver,
                    f"return document.querySelector('{answer}').innerText !== " + json.dumps(before),
                    timeout=180,
                    what=f"answer to {elem_id}",
                )
                # ... and every queued update has been drawn (a status can change while the last keystrokes still run)
                wait_for(
                    driver,
                    "return !document.body.innerText.includes('processing |')",
                    timeout=180,
                    what=f"{elem_id}: all updates drawn",
                )
                typed += 1
                time.sleep(1)
                urls += requested_urls(driver)
                assert driver.execute_script(f"return window.__xss_{marker}") is None, elem_id
                assert driver.title == title, elem_id
                # nothing the payload describes became an element outside the text boxes
                injected = driver.execute_script(
                    "return [...document.querySelectorAll('img[src=x], svg[onload], iframe[srcdoc*=__xss], script')]"
                    ".filter(e => !e.closest('textarea') && (e.tagName !== 'SCRIPT' || e.textContent.includes('__xss'))).length"
                )
                assert injected == 0, elem_id
                if elem_id in RESTORE:
                    type_into(driver, box, RESTORE[elem_id])
                    wait_for(
                        driver,
                        f"const t = document.querySelector('{answer}').innerText; return t && !t.includes('⚠')",
                        timeout=180,
                        what=f"{elem_id} restored",
                    )
            driver.save_screenshot(str(SCREENSHOTS / f"hostile_{tab.split()[0].lower()}.png"))
        # bertviz's iframe with the payload tokens in it: sandboxed, still nothing reaches the page
        click_tab(driver, "Self-attention")
        type_into(
            driver,
            driver.execute_script(
                "return document.querySelector('#attn-model textarea') ? '#attn-model textarea' : '#attn-model input'"
            ),
            "",
        )
        type_into(driver, "#attn-text-b textarea", "")
        type_into(driver, "#attn-text textarea", "<script>parent.__xss_bertviz=1</script> <b>cat</b>")
        wait_for(
            driver,
            "return document.querySelector('#attn-status').innerText.includes('layers × 12 heads') && "
            "!document.querySelector('#attn-status').innerText.includes('⚠')",
            timeout=180,
            what="self-attention after the payload",
        )
        driver.execute_script(
            "for (const b of document.querySelectorAll('button')) "
            "if (b.innerText.includes('bertviz: head view and model view')) b.click()"
        )  # open the accordion
        wait_for(
            driver, "return document.querySelector('#self_attention_bertviz-button') !== null", what="bertviz button"
        )
        driver.execute_script("document.querySelector('#self_attention_bertviz-button').click()")
        wait_for(
            driver,
            "return document.querySelector('#attn-head-view iframe.bertviz-frame') !== null",
            timeout=180,
            what="bertviz iframe",
        )
        time.sleep(3)
        assert driver.execute_script("return window.__xss_bertviz") is None
        urls += requested_urls(driver)
        assert typed == 8
        assert driver.title == title
        assert urls and outside_requests(urls) == []
    finally:
        driver.quit()
