"""The Self-attention view: analysis.py (analyze -> result -> figures, the endpoints' handlers),
tab.py (the tab, its View and the bertviz section), compare.py (a second input), and one module per
section of "Inside self-attention" (sub-tabs): inside_head, positions, rollout_section, ablation_section."""
