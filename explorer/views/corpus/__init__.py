"""The Across-a-corpus view: analysis.py (its endpoint and the bundled analyses it reads), its
sections syntax_heads.py, errors.py, contexts.py, and tab.py (the tab and its View)."""
