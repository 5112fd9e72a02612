"""A trivial sixth view, for the test that a view is one module and one list entry."""

from __future__ import annotations

from explorer.contract import FirstPaint, View


def shout(text: str) -> str:
    return (text or "").upper()


def show(text: str) -> dict:
    return {"echo": shout(text)}


def build(view: View, runtime) -> FirstPaint:
    import gradio as gr

    from explorer.web.ui import endpoint

    text = gr.Textbox("hello", elem_id="echo-text")
    echo = gr.Markdown(elem_id="echo-output")
    run = endpoint(runtime, view.models, show, {"echo": echo})
    text.submit(run, [text], [echo], api_name=view.api_name)
    return FirstPaint(run, [text], [echo])


VIEW = View(
    title="Echo",
    api_name="echo",
    models={},
    inputs=("text",),
    handler=show,
    analyze=shout,
    figures=lambda shouted: {"echo": shouted},
    build=build,
    examples=({"text": "hi"},),
)
