"""Every text field of every endpoint gets the inputs people paste: each answer is a result or a
clear message, never a traceback or an internal failure, and the server keeps serving."""

from __future__ import annotations

import json

import pytest

from conftest import answer

pytestmark = pytest.mark.bundled

HOSTILE = {
    "empty": "",
    "spaces and newlines": "   \n\t  \n",
    "control characters": "The cat\x00\x07\x1b[31m sat\x7f on the mat.",
    "zero-width and BOM": "The\u200b cat\u200d sat\ufeff on\u2060 the mat.",
    "right-to-left override": "The \u202ecat sat\u202c on the \u200fmat\u200e.",
    "emoji": "The 🐈‍⬛ sat on the 🧶 and purred 😺👍🏽.",
    "CJK": "猫がマットの上に座った。我爱自然语言处理。",
    "Arabic and Hebrew": "القط جلس على السجادة. החתול ישב על השטיח.",
    "one very long token": "a" * 4000,
    "too many characters": "word " * 1200,
    "too many tokens": "the " * 150,
    "script tag": "<script>window.__xss=1</script> hello",
    "img onerror": "<img src=x onerror=\"document.title='pwned'\"> a dog runs",
    "markdown and link": "**bold** [click](javascript:alert(1)) `code` # heading",
    "closing tags": "</script></textarea></div><!-- a cat -->",
    "spreadsheet formula": '=HYPERLINK("http://evil.example","x") +1 -2 @SUM(A1)',
    "lone surrogate escape": "bad \\ud800 text",
    "many lines": "\n".join(f"line {i}" for i in range(40)),
}


def endpoints() -> dict:
    """Every view's endpoint -> (its first example's inputs, the index of each text field in them)."""
    from explorer import VIEWS

    out = {}
    for view in VIEWS:
        args = view.api_args(view.examples[0])
        out[f"/{view.api_name}"] = (args, [i for i, a in enumerate(args) if isinstance(a, str)])
    return out


ENDPOINTS = endpoints()
CASES = [(api, field, name) for api, (_, fields) in ENDPOINTS.items() for field in fields for name in HOSTILE]


@pytest.mark.parametrize("api_name, field, name", CASES, ids=[f"{a}[{f}]-{n}" for a, f, n in CASES])
def test_hostile_input_gets_a_result_or_a_clear_message(client, api_name, field, name):
    args, _ = ENDPOINTS[api_name]
    args = list(args)
    args[field] = HOSTILE[name]
    kind, value = answer(client, api_name, args)
    text = value if kind == "message" else json.dumps(value, ensure_ascii=False, default=str)
    assert "Traceback" not in text and "The analysis failed" not in text, text[:500]
    if kind == "message":
        assert len(value) > 20 and "Error" not in value.split(":")[0], value  # a sentence, not an exception name
        # what the user typed comes back escaped, if at all
        assert "<script" not in value and "<img" not in value, value
    if name in ("empty", "spaces and newlines") and field == 0:
        assert kind == "message" and "empty" in value


def test_server_still_serves_every_endpoint_afterwards(client):
    for api_name, (args, _) in ENDPOINTS.items():
        kind, value = answer(client, api_name, list(args))
        assert kind == "result", (api_name, value)
