"""A view that fails never takes the others down: the app is served in this process, two
views are broken on purpose, and the other three keep answering."""

from __future__ import annotations

import pytest

from conftest import answer, free_port

pytestmark = pytest.mark.bundled

WORKING = {
    "/batch": ["The cat sat .\nHi there"],
    "/tag": ["The cat sat on the mat.", 8],
    "/self_attention": ["The cat sat on the mat.", "", "", False, 1, 1],
}


class Breakable:
    """A model that raises on every use while `broken` is set, and is the real one otherwise."""

    broken = True

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        if Breakable.broken:
            raise RuntimeError("internal detail the user must not see")
        return getattr(self.real, name)


@pytest.fixture(scope="module")
def local_client():
    """The app built in this process over a runtime whose NLI model and attention translator
    break on demand (the batched /nli endpoint and the plain /translate one)."""
    from gradio_client import Client

    import app
    from models.runtime import MODELS, RUNTIME, ModelSpec, Runtime

    def breakable(name):
        return ModelSpec(name=name, load=lambda device, **_: Breakable(RUNTIME.get(name)))

    runtime = Runtime({**MODELS, "nli": breakable("nli"), "translator/attention": breakable("translator/attention")})
    demo = app.build_demo(runtime=runtime)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, share=False)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        demo.close()


def test_a_failing_view_answers_with_a_message_and_the_others_keep_working(local_client):
    Breakable.broken = True
    for api_name, args in (("/nli", ["A dog runs.", "An animal moves."]), ("/translate", ["A man rides a bike.", 1])):
        kind, message = answer(local_client, api_name, args)
        assert kind == "message" and "The analysis failed (RuntimeError)" in message, (api_name, message)
        assert "internal detail" not in message
    for api_name, args in WORKING.items():
        assert answer(local_client, api_name, args)[0] == "result", api_name

    Breakable.broken = False  # repaired: the broken views answer again, the server never restarted
    assert answer(local_client, "/nli", ["A dog runs.", "An animal moves."])[0] == "result"
    assert answer(local_client, "/translate", ["A man rides a bike.", 1])[0] == "result"
