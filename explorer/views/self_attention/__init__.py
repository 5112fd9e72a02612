"""The Self-attention view: analysis.py (analyze -> result -> figures, the endpoints' handlers),
tab.py (the tab and its View), and its sections: compare.py (a second input), inside_sections.py
(the "Inside self-attention" sub-tabs: inside_head, positions, rollout_section, ablation_section)."""
