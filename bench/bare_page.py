"""A bare Gradio page with five tabs, each a text box, a status line and an empty plot, and no
events: what a page open costs the server when it computes nothing (bench/page_open.py)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

with gr.Blocks(title="bare five-tab page") as demo:
    gr.Markdown("# A bare page")
    for name in ("one", "two", "three", "four", "five"):
        with gr.Tab(name):
            gr.Textbox(f"text of tab {name}", label="text")
            gr.Markdown(f"status of tab {name}", elem_id=f"{name}-status")
            gr.Plot()

if __name__ == "__main__":
    demo.launch(server_name="127.0.0.1", server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
