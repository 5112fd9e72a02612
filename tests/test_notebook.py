"""The explorer in a notebook: explorer.show gives each view and section as one call that returns
what its tab draws, and examples/tour.ipynb runs top to bottom in a real kernel (nbclient), its
figures carrying plotly.js inline (no CDN)."""

from __future__ import annotations

import inspect
import json
import os
import re
from pathlib import Path

import pytest

from explorer import VIEWS, show
from models.runtime import RUNTIME

REPO = Path(__file__).resolve().parent.parent
TOUR = REPO / "examples" / "tour.ipynb"
pytestmark = pytest.mark.bundled


def test_every_view_and_section_of_its_own_is_a_call_with_its_endpoints_parameters():
    expected = {v.api_name: v.inputs for v in VIEWS}
    expected |= {s.api_name: s.parameters for v in VIEWS for s in v.sections if "result" not in s.reads}
    assert {name: tuple(inspect.signature(getattr(show, name)).parameters) for name in expected} == expected
    assert show.tags is show.tag and show.translation is show.translate and show.mask_experiment is show.batch_training
    assert "self_attention_bertviz" not in show.names()  # it draws the view's last answer: no call of its own


def test_a_call_returns_the_tabs_figures_and_the_plain_result():
    s = show.self_attention("The cat sat on the mat.", layer=3, head=7)
    view = next(v for v in VIEWS if v.api_name == "self_attention")
    answer = view.handler("The cat sat on the mat.", "", "", False, 3, 7, encoder=RUNTIME.get("encoder"))
    assert set(s.figures) == {k for k, v in answer.items() if isinstance(v, dict) and "layout" in v}
    assert s.figures["zoom"].layout.title.text == answer["zoom"]["layout"]["title"]["text"]
    assert s.figures["zoom"].layout.title.text.startswith("Layer 3, head 7")
    assert s.result.attentions.shape == (6, 12, 9, 9)  # the numbers behind the figures
    tags = show.tags("Dogs bark.", k=5)
    assert tags.result.tagged.tags == ["NOUN", "VERB", "PUNCT"] and "table" in tags.tables
    with pytest.raises(KeyError, match="shows no 'nothing'"):
        tags["nothing"]
    with pytest.raises(ValueError, match="must be a whole number"):
        show.tags("Dogs bark.", k="many")  # the view's own check, as the API answers it


def test_a_batch_is_a_list_of_sentences_or_one_a_line():
    listed = show.batch(["the cat sat", "hi there", "a much longer sentence here ."])
    assert listed.result.layout.lengths.tolist() == [3, 2, 6]
    assert show.batch("the cat sat\nhi there").result.layout.lengths.tolist() == [3, 2]


def test_a_shown_figure_carries_plotly_js_inline_once():
    html = show.rollout("The animal didn't cross the street.").html()
    assert html.count("Plotly.newPlot(") == 2  # its two figures
    assert len(re.findall(r"\* plotly\.js v\d", html)) == 1  # the library once, inline
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing fetched: no CDN, works offline


def test_the_tour_notebook_runs_top_to_bottom_with_its_figures():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(TOUR, as_version=4)
    assert all(cell.get("outputs", []) == [] for cell in notebook.cells if cell.cell_type == "code")  # stored clean
    env = {"HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    os.environ.update(env)
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(REPO)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o.data["text/html"] for o in outputs if o.output_type == "display_data" and "text/html" in o.data]
    figures = [h for h in html if "Plotly.newPlot(" in h]  # the others are tables (pandas' own HTML)
    assert len(figures) >= 9 and not any(re.search(r"<script[^>]*\bsrc=", h) for h in html)
    markdown = [o.data["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert any("flatter it" in m for m in markdown)  # the mask experiment's finding, in its words
    assert any("(3, 4, 13, 13)" in json.dumps(o.get("data", {})) for o in outputs)  # the decoder's attention shape
