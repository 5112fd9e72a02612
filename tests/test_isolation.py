"""A view that fails never takes the others down: the app is served in this process, two
views are broken on purpose, and the other three keep answering."""
from __future__ import annotations

import pytest
from conftest import answer, free_port

pytestmark = pytest.mark.bundled

WORKING = {"/batch": ["The cat sat .\nHi there"], "/tag": ["The cat sat on the mat.", 8],
           "/self_attention": ["The cat sat on the mat.", "", "", False, 1, 1]}


@pytest.fixture(scope="module")
def local_client():
    from gradio_client import Client

    import app

    port = free_port()
    app.demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, share=False)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        app.demo.close()


def test_a_failing_view_answers_with_a_message_and_the_others_keep_working(local_client, monkeypatch):
    from explorer import translation
    from models import registry

    def broken(*args, **kwargs):
        raise RuntimeError("internal detail the user must not see")

    monkeypatch.setattr(registry, "nli", broken)  # the batched /nli endpoint's model lookup
    monkeypatch.setattr(translation, "analyze", broken)  # the plain /translate endpoint's analysis
    for api_name, args in (("/nli", ["A dog runs.", "An animal moves."]), ("/translate", ["A man rides a bike.", 1])):
        kind, message = answer(local_client, api_name, args)
        assert kind == "message" and "The analysis failed (RuntimeError)" in message, (api_name, message)
        assert "internal detail" not in message
    for api_name, args in WORKING.items():
        assert answer(local_client, api_name, args)[0] == "result", api_name

    monkeypatch.undo()  # repaired: the broken views answer again, the server never restarted
    assert answer(local_client, "/nli", ["A dog runs.", "An animal moves."])[0] == "result"
    assert answer(local_client, "/translate", ["A man rides a bike.", 1])[0] == "result"
