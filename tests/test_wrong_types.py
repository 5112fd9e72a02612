"""Issue 24 item 6: a value of the wrong type or out of range, sent to any named endpoint through
the API ('seven' or None where a number goes, 2.5 where a whole number goes, a number where
true/false or a choice goes), gets one line naming the input and what it accepts (never Gradio's
generic "upstream app has raised an exception"), the server log gets no traceback for it, and the
server keeps serving."""

from __future__ import annotations

import pytest

from conftest import answer, app_log

pytestmark = pytest.mark.bundled

WRONG = {"a string": "seven", "None": None, "a fraction": 2.5, "too big": 10**6}
CHOICE_WRONG = {"a string": "seven", "a number": 2.5}  # a checkbox or a radio
# Dropdowns that also take any typed value (the API lists their choices all the same): not a choice.
FREE_TEXT = {("/corpus_contexts", "word")}


def endpoints(client) -> dict:
    """Each named endpoint with a number, true/false or choice input -> (its parameters with their
    defaults, {input name: the wrong values to send})."""
    out = {}
    for name, endpoint in client.view_api(return_format="dict", print_info=False)["named_endpoints"].items():
        params = endpoint["parameters"]
        defaults = {p["parameter_name"]: p.get("parameter_default") for p in params}
        checked = {}
        for p in params:
            kind = p["python_type"]["type"]
            if kind in ("float", "int"):
                checked[p["parameter_name"]] = WRONG
            elif (name, p["parameter_name"]) in FREE_TEXT:
                continue
            elif kind == "bool" or kind.startswith("Literal"):
                checked[p["parameter_name"]] = CHOICE_WRONG
        if checked:
            out[name] = (defaults, checked)
    return out


@pytest.fixture(scope="module")
def sent(client, app_url):
    """Every wrong value sent once: [(endpoint, input, what was sent, (kind, answer))]."""
    results = []
    for api_name, (defaults, checked) in endpoints(client).items():
        for field, wrong in checked.items():
            for what, bad in wrong.items():
                kwargs = {**defaults, field: bad}
                results.append((api_name, field, what, answer(client, api_name, kwargs)))
    return results


def test_every_endpoint_with_numbers_is_covered(sent):
    covered = {(api, field) for api, field, _, _ in sent}
    for expected in [
        ("/tag", "k"),
        ("/tag_saliency", "index"),
        ("/translate", "beam_size"),
        ("/self_attention", "layer"),
        ("/self_attention", "head"),
        ("/self_attention", "merge"),
        ("/self_attention_inside", "query"),
        ("/self_attention_positions", "seed"),
        ("/self_attention_ablation", "switch_off"),
        ("/self_attention_ablation", "layer"),
        ("/transformer", "beam_size"),
        ("/transformer", "kind"),
        ("/transformer", "layer"),
        ("/transformer", "head"),
        ("/transformer_history", "epoch"),
        ("/batch_training", "learning_rate"),
        ("/batch_training", "sort_by_length"),
        ("/batch_training", "seed"),
        ("/corpus_syntax_heads", "relation"),
        ("/corpus_syntax_heads", "layer"),
        ("/corpus_errors", "model"),
        ("/corpus_errors", "gold"),
        ("/corpus_contexts", "source"),
        ("/corpus_contexts", "layer"),
    ]:
        assert expected in covered, expected


def test_wrong_type_gets_one_line_naming_the_input(sent):
    wrong = []
    for api_name, field, what, (kind, text) in sent:
        text = str(text)
        if kind != "message" or field not in text or "upstream" in text or "\n" in text.strip():
            wrong.append((api_name, field, what, kind, text[:200]))
    assert not wrong, "\n".join(map(str, wrong))


def test_whole_numbers_say_what_they_accept(sent):
    for api_name, field, what, (_, text) in sent:
        if what in ("a string", "None", "a fraction"):
            assert "must be" in str(text) and any(
                w in str(text) for w in ("whole number", "a number from", "one of", "true or false")
            ), (
                api_name,
                field,
                text,
            )


def test_no_traceback_in_the_server_log(sent, app_url):
    log = app_log(app_url)
    assert "Traceback" not in log and "ComponentProcessingError" not in log, log[-3000:]


def test_server_still_serves_afterwards(sent, client):
    """A normal request after the wrong ones, including to the endpoint whose sliders an earlier
    answer updated (the session's copy of a slider checks too)."""
    kind, out = answer(client, "/self_attention", [])
    assert kind == "result", out
    kind, text = answer(client, "/self_attention", {"layer": "seven"})
    assert kind == "message" and "layer must be a whole number from 1 to 6, got 'seven'." in text
    tags, *_, status = client.predict(text="I don't like green eggs.", k=3, api_name="/tag")
    assert "7 tokens tagged" in status


def test_without_batching_too():
    """With dynamic batching off, /tag and /translate read k and beam_size through their sliders'
    preprocess, which checks them the same way (the app is built here; no model is loaded)."""
    import gradio as gr

    import app
    from explorer import VIEWS
    from models.runtime import MODELS, Runtime

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLORER_BATCHING", "0")
        demo = app.build_demo(VIEWS, runtime=Runtime(MODELS))
    fns = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name}
    for api_name, index, name, low, high in [("tag", 1, "k", 3, 17), ("translate", 1, "beam_size", 1, 8)]:
        slider = fns[api_name].inputs[index]
        assert slider.get_block_name() == "slider"  # the page still draws a plain slider
        assert slider.preprocess(4) == 4
        for bad in ("seven", None, 2.5, high + 1):
            with pytest.raises(gr.Error) as err:
                slider.preprocess(bad)
            assert err.value.message.startswith(f"{name} must be a whole number from {low} to {high}, got ")
            assert not err.value.print_exception  # no traceback in the log
