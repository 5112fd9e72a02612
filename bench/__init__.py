"""`python -m bench`: every view of the app measured against its floor.

views.py      analyze + figures of each view / the bare forward of its model(s)
roundtrip.py  HTTP round trip through gradio_client / (the app's /ping + the in-process time)
startup.py    `python app.py` until the page answers / importing torch, gradio, transformers
payload.py    bytes of the self-attention view / bertviz's head_view HTML
packing.py    padded vs packed BiLSTM, forward and forward+backward (the Batch view's own measurement)
goals.py      the goals, and the table of figures with their gaps
inputs.py     the standard inputs: 20- and 60-token sentences, a 16-sentence batch
"""
