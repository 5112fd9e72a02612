"""End to end through gradio_client: /batch and /tag answer, bad input gets a clear message,
and the server keeps serving afterwards."""

import pytest

from conftest import answer

pytestmark = pytest.mark.bundled


def test_batch_endpoint(client):
    out = client.predict("the cat sat\nhi there\na much longer sentence here .", api_name="/batch")
    summary = out[0]
    assert "B = 3 sentences, T = 6" in summary
    assert "`batch_sizes` = [3, 3, 2, 1, 1, 1]" in summary
    assert "Padding fraction" in summary


def test_tag_endpoint(client):
    tags, confidence, probs, table, status = client.predict("I don't like green eggs.", 8, api_name="/tag")
    pairs = [(d["token"], d["class_or_confidence"]) for d in tags] if isinstance(tags, list) else None
    pairs = pairs or [(d["token"], d["class_or_confidence"]) for d in tags["value"]]
    tagged = [(t, c) for t, c in pairs if c]
    assert [t for t, _ in tagged] == ["I", "do", "n't", "like", "green", "eggs", "."]
    assert dict(tagged)["n't"] == "PART" and dict(tagged)["."] == "PUNCT"
    assert "7 tokens tagged" in status


def test_parameters_by_name(client):
    """Issue 24: an endpoint's parameters are named after its inputs (not param_0, param_1)."""
    *_, status = client.predict(text="I don't like green eggs.", k=3, api_name="/tag")
    assert "7 tokens tagged" in status
    summary, *_ = client.predict(premise="A dog runs.", hypothesis="An animal moves.", api_name="/nli")
    assert "premise words" in summary


@pytest.mark.parametrize(
    "api_name, args, message",
    [
        ("/tag", ("", 8), "empty"),
        ("/tag", ("a " * 500, 8), "500 tokens"),
        ("/batch", ("\n".join(["one line"] * 17),), "17 sentences"),
        ("/batch", ("",), "empty"),
    ],
)
def test_bad_input_gets_a_message_and_server_keeps_serving(client, api_name, args, message):
    kind, text = answer(client, api_name, list(args))
    assert kind == "message" and message in text
    assert "B = 1 sentence," in client.predict("still alive", api_name="/batch")[0]


def test_markup_is_returned_as_text_not_html(client):
    tags, *_ = client.predict("<img src=x onerror=alert(1)> hi", 8, api_name="/tag")
    tokens = [d["token"] for d in (tags if isinstance(tags, list) else tags["value"]) if d["class_or_confidence"]]
    assert "<" in tokens and "img" in tokens  # split into plain tokens; HighlightedText renders them as text


def test_nli_endpoint(client):
    summary, probs, alignment, beta, alpha, contribution, hard, files = client.predict(
        "A man is playing a guitar on stage.", "A man is sleeping in his bed.", api_name="/nli"
    )
    assert "contradiction" in summary.split("(")[0]
    assert "9 premise words × 8 hypothesis words" in summary
    assert not files  # written only on request: /nli_export, of this session's last pair
    files = client.predict(api_name="/nli_export")
    names = sorted(str(f).rsplit("/", 1)[-1] for f in (files if isinstance(files, list) else [files]))
    assert names == ["alignment_e.csv", "alpha_hypothesis_to_premise.csv", "beta_premise_to_hypothesis.csv"]


@pytest.mark.parametrize(
    "premise, hypothesis, message",
    [
        ("", "A dog runs.", "premise is empty"),
        ("A dog runs.", "   ", "hypothesis is empty"),
        ("dog " * 200, "A dog runs.", "word pieces; the limit is"),
        ("<script>alert(1)</script>" * 400, "x", "characters; the limit is"),
    ],
)
def test_nli_bad_input_gets_a_message_and_server_keeps_serving(client, premise, hypothesis, message):
    kind, text = answer(client, "/nli", [premise, hypothesis])
    assert kind == "message" and message in text
    summary = client.predict("A dog runs.", "An animal moves.", api_name="/nli")[0]
    assert "premise words" in summary


def test_nli_markup_is_returned_as_text(client):
    summary, _, alignment, *_ = client.predict(
        "<b>A</b> dog <img src=x onerror=alert(1)> runs.", "A dog runs.", api_name="/nli"
    )
    ticks = " ".join(str(t) for t in _ticktext(alignment))
    assert "<img" not in ticks and "&lt;" in ticks


def _ticktext(plot) -> list:
    """The y-axis tick labels of a gr.Plot value as gradio_client returns it (plotly JSON)."""
    import json

    value = plot.get("plot") if isinstance(plot, dict) else plot
    figure = json.loads(value) if isinstance(value, str) else value
    return figure["layout"]["yaxis"]["ticktext"]
