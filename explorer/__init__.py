"""What the user sees: one module per view, each declaring itself as a View (explorer/view.py).

VIEWS is the one list of them, in tab order: app.py builds a tab and an endpoint for each,
`python -m bench` and the tests loop over it. A new view is one module and one line here.
"""

from . import batching, lesson, nli, self_attention, tagging, translation

VIEWS = (lesson.VIEW, batching.VIEW, tagging.VIEW, translation.VIEW, self_attention.VIEW, nli.VIEW)
