"""What the user sees: one view per tab, each declaring itself as a View (explorer/contract.py).

    views/     one module per view; a package for a view with sections
    core/      what the views compute with: figures, limits, samples, text alignment (no gradio, no torch)
    web/       the Gradio plumbing every view shares: wiring, deep links, serving, exports, cards, page

VIEWS is the one list of the views, in tab order: app.py builds a tab and an endpoint for each,
`python -m bench` and the tests loop over it. A new view is one module and one line here.
"""

from .views import lesson, tagging, translation
from .views.batching import tab as batching_tab
from .views.corpus import tab as corpus_tab
from .views.nli import tab as nli_tab
from .views.self_attention import tab as self_attention_tab
from .views.transformer import tab as transformer_tab

VIEWS = (
    lesson.VIEW,
    batching_tab.VIEW,
    tagging.VIEW,
    translation.VIEW,
    self_attention_tab.VIEW,
    transformer_tab.VIEW,
    nli_tab.VIEW,
    corpus_tab.VIEW,
)
