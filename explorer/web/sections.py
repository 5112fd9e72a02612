"""The one wiring step of a view's sections (explorer.contract.Section) and of every Export.

A section is declared, never wired by hand: `place` gives each one, inside the tab being built,
    its intro, its own inputs beside its button, its teaching note, a status line, its outputs
    (and the events its `wire` adds between them),
    an Export accordion (endpoint /<api_name>_export), its endpoint /<api_name> on the button
    (and on the inputs in rerun_on; once answered, its linked inputs are written to the URL),
    and a FirstPaint that deep links and the warm-up run
    (explorer/web/deep_links.py, explorer/web/serving.warm_up).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import gradio as gr

from explorer.contract import FirstPaint, Section

from .deep_links import section_url_js
from .ui import endpoint, live, teaching_note, with_inputs


def place(
    sections: Sequence[Section], runtime, tab: Mapping, as_tabs: bool = True, elem_id: str | None = None
) -> tuple:
    """The sections inside the current Blocks, as sub-tabs (elem_id: of their gr.Tabs) or one
    after the other; `tab`: the tab's components by name, where each section finds what it
    reads. Returns their FirstPaints, for the view's FirstPaint.linked."""
    if not sections:
        return ()
    if not as_tabs:
        return tuple(build(section, runtime, tab) for section in sections)
    painted = []
    with gr.Tabs(elem_id=elem_id) as holder:
        for section in sections:
            with gr.Tab(section.title, id=section.api_name):
                painted.append(build(section, runtime, tab, holder=holder))
    return tuple(painted)


def build(section: Section, runtime, tab: Mapping, holder=None) -> FirstPaint:
    """One section inside the current Blocks (see the module docstring)."""
    missing = [name for name in section.reads if name not in tab]
    if missing:
        raise KeyError(f"section {section.api_name} reads {missing}, which its tab does not name: {sorted(tab)}")
    if section.intro:
        gr.Markdown(section.intro)
    with gr.Row():
        own = dict(section.build_inputs())
        button = gr.Button(section.button, variant="primary", elem_id=f"{section.api_name}-button")
    if section.note:
        teaching_note(section.note)
    status = gr.Markdown(elem_id=f"{section.api_name}-status", elem_classes="section-status")  # empty until asked
    outputs = {"status": status, **section.build_outputs()}
    result = outputs["result"] = gr.State()
    if section.export is not None:
        outputs["files"] = export_accordion(
            section.api_name, section.export_label, runtime, export_of(section.export, section.button), [result]
        )
    inputs = [tab[name] for name in section.reads] + [own[name] for name in section.inputs]
    shown = list(outputs.values())
    answer = endpoint(
        runtime, section.models, section.handler, outputs, cache=section.cached, progress=section.progress
    )
    run = cleared(answer, outputs.get("files"))
    answered = button.click(run, inputs, shown, api_name=section.api_name, concurrency_limit=section.concurrency)
    if section.links:  # its settings go into the page's URL: a copied link opens this answer
        linked = [own[p.input] for p in section.links]
        answered.success(None, linked, None, js=section_url_js(section.api_name, [p.name for p in section.links]))
    if section.wire is not None:
        section.wire(own, outputs)
    # A person's own change reruns it (a slider's release, another input's `input` event), never a
    # value written by the page: a deep link fills several inputs one after another, and a rerun on
    # each would race its own paint with half the link's values.
    for name in section.rerun_on:
        component = own[name]
        (component.release if isinstance(component, gr.Slider) else component.input)(
            run, inputs, shown, api_name=False, show_progress="minimal"
        )
    return FirstPaint(live(run, status, shown), inputs, shown, components=own, name=section.api_name, holder=holder)


def cleared(run: Callable, files) -> Callable:
    """run, also emptying the Export's files (they belong to the previous answer)."""
    if files is None:
        return run

    def run_and_clear(*inputs):
        return {**run(*inputs), files: None}

    run_and_clear.__name__ = run.__name__
    return with_inputs(run_and_clear, list(run.__signature__.parameters.values()))


def export_of(write: Callable, button: str) -> Callable:
    """The Export function of a result: its files, or a line saying what to press first."""

    def export(result) -> dict:
        if result is None:
            raise ValueError(f"Nothing to export yet: press “{button}” first.")
        return {"files": write(result)}

    export.__qualname__ = f"{write.__module__}.{write.__qualname__}.export"
    return export


def export_accordion(api_name: str, label: str, runtime, export: Callable, inputs: list, files_label: str = "Files"):
    """A closed Export accordion: a button that writes the files of `export(*inputs)` (a dict
    with "files") into a file list, through the endpoint /<api_name>_export. Returns the file list.
    On request only: a view reruns on every keystroke, and files cost the most of an answer."""
    with gr.Accordion("Export", open=False):
        button = gr.Button(label, elem_id=f"{api_name}-export-button")
        files = gr.File(label=files_label, file_count="multiple", elem_id=f"{api_name}-files")
    button.click(endpoint(runtime, {}, export, {"files": files}), inputs, [files], api_name=f"{api_name}_export")
    return files
