"""One module per view (analyze -> result -> figures, then the tab), and a package for a view
with sections: batching/, self_attention/, nli/, transformer/, corpus/. saliency_section.py is the section NLI and tagging share,
comparison.py what the two comparisons (self_attention/compare.py, nli/compare.py) share."""
