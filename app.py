"""Sequence-model explorer: see inside the models that read sentences.

    python app.py        # http://127.0.0.1:7860
"""
import os

# Before gradio is imported: no usage analytics, and the hub is never asked for anything
# the user did not name.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

import gradio as gr  # noqa: E402

from explorer import batching, nli, self_attention, tagging, translation  # noqa: E402
from explorer.serving import CONCURRENCY_PER_VIEW, QUEUE_MAX_SIZE, launch_settings  # noqa: E402


def ping() -> str:
    """Does nothing: `python -m bench` compares each view's API round trip with this one's."""
    return "pong"


# delete_cache: every hour, drop served files (exports) older than an hour, so a busy day
# does not fill the disk.
with gr.Blocks(title="Sequence-model explorer", delete_cache=(3600, 3600)) as demo:
    gr.Markdown("# Sequence-model explorer\nSee inside small pretrained sequence models, live on your own text.")
    with gr.Tab("Batch layout"):
        batch_run, batch_inputs, batch_outputs = batching.tab()
    with gr.Tab("Tags"):
        tag_run, tag_inputs, tag_outputs = tagging.tab()
    with gr.Tab("Translation attention"):
        translate_run, translate_inputs, translate_outputs = translation.tab()
    with gr.Tab("Self-attention"):
        attention_run, attention_inputs, attention_outputs = self_attention.tab()
    with gr.Tab("NLI alignment"):
        nli_run, nli_inputs, nli_outputs = nli.tab()
    # First paint: each view renders its default input once the page has opened.
    demo.load(batch_run, batch_inputs, batch_outputs, api_name=False)
    demo.load(tag_run, tag_inputs, tag_outputs, api_name=False)
    demo.load(attention_run, attention_inputs, attention_outputs, api_name=False)
    demo.load(nli_run, nli_inputs, nli_outputs, api_name=False)
    demo.load(translate_run, translate_inputs, translate_outputs, api_name=False)
    gr.api(ping, api_name="ping", api_visibility="undocumented")

demo.queue(default_concurrency_limit=CONCURRENCY_PER_VIEW, max_size=QUEUE_MAX_SIZE)

if __name__ == "__main__":
    from models.bundled import problems

    if found := problems():  # a damaged weight file stops the start, named, instead of failing one tab later
        raise SystemExit("Cannot start: bundled model files are not usable.\n  " + "\n  ".join(found))
    demo.launch(**launch_settings())
