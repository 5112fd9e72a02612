"""The "Inside self-attention" part of the Self-attention tab: one head step by step, positions,
rollout and head ablation, as sub-tabs driven by the tab's own sentence boxes and sliders.
Each runs on request (its button), through its own API endpoint."""

from __future__ import annotations

import gradio as gr

from . import ablation_section, inside_head, positions, rollout_section


def build_sections(runtime, text, text_b, layer, head) -> None:
    """Inside the current Blocks context; text, text_b, layer, head are the tab's widgets."""
    gr.Markdown("## Inside self-attention, and whether attention explains", elem_id="inside-heading")
    with gr.Tabs(elem_id="inside-tabs"):
        with gr.Tab("One head, step by step", id="inside-head"):
            inside_head.build_section(runtime, text, text_b, layer, head)
        with gr.Tab("Positions", id="inside-positions"):
            positions.build_section(runtime, text, layer, head)
        with gr.Tab("Rollout", id="inside-rollout"):
            rollout_section.build_section(runtime, text, text_b)
        with gr.Tab("Head ablation", id="inside-ablation"):
            ablation_section.build_section(runtime, text, text_b, layer, head)
