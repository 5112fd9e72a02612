"""The Batch layout tab: analysis.py (padding, packing, the mask, the masked loss, the cost),
training.py (the mask experiment section) and tab.py (the tab and its View)."""
