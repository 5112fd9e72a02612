"""A trivial section, for the test that a section is one declaration: added to a view's
`sections`, it gets its endpoint, its Export, its deep link and its warm-up with no other change."""

from __future__ import annotations

from pathlib import Path

from explorer.contract import Param, Section
from explorer.web.exports import request_folder


def repeat(text: str, times) -> str:
    return " ".join([text.strip()] * int(times))


def show(text: str, times) -> dict:
    echoed = repeat(text, times)
    return {"status": f"{int(times)} times", "echoed": echoed, "result": echoed}


def outputs() -> dict:
    import gradio as gr

    return {"echoed": gr.Textbox(label="Echoed", elem_id="echo-section-output")}


def times_slider() -> dict:
    import gradio as gr

    return {"times": gr.Slider(1, 5, value=2, step=1, label="Times")}


def write(echoed: str) -> list[str]:
    path = Path(request_folder("echo")) / "echo.txt"
    path.write_text(echoed, encoding="utf-8")
    return [str(path)]


SECTION = Section(
    title="Echo",
    api_name="echo_section",
    models={},
    reads=("text",),
    inputs=("times",),
    handler=show,
    analyze=repeat,
    figures=lambda echoed: {"echoed": echoed},
    build_inputs=times_slider,
    build_outputs=outputs,
    button="Echo the text",
    export=write,
    examples=({"text": "warm", "times": 3},),
    links=(Param("times", "times", "Times", "int", 1, 5),),
)
