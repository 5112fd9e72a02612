"""The Across-a-corpus view: analysis.py (its endpoint and the bundled analyses it reads), its
sections heads_section.py, errors_section.py, contexts_section.py, and tab.py (the tab and its View)."""
