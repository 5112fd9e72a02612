"""The Gradio plumbing every view shares: the request boundary and live / batched wiring (ui),
deep links, how the app serves a classroom (serving), export folders, model cards, the page's CSS."""
