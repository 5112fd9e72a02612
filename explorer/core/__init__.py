"""What the views compute with, and nothing of Gradio or torch: plotly specs (figures), input
limits, standard inputs (samples), tokens of two inputs lined up (text_alignment), bertviz's
HTML made safe (safe_html), counts in words (plural)."""
