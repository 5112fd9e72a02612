"""The NLI alignment view, of the model in models/nli.py: analysis.py (analyze -> result ->
figures, the endpoints' handlers), tab.py (the tab and its View), and its section compare.py (a
second pair); the attention vs saliency section it shares with tagging is
explorer/views/saliency_section.py."""
