"""Deep links read without a browser: what a query string may hold, what a bad one says, the
Lesson's steps as links, the model cards shown in the tabs, and the A/B comparison's line-up."""

from __future__ import annotations

from urllib.parse import parse_qsl

import numpy as np
import pytest

from explorer import VIEWS
from explorer.core import text_alignment
from explorer.views import lesson
from explorer.web import deep_links, model_cards
from explorer.web.deep_links import declared

LINKS = declared(VIEWS)


def parse(query):
    return deep_links.parse(query, LINKS)


def test_a_link_names_its_view_and_values_as_the_sliders_show_them():
    link = parse({"view": "self_attention", "text": "The cat sat.", "layer": "3", "head": "7", "merge": "1"})
    assert link.view == "self_attention" and link.notices == ()
    assert link.values == {"text": "The cat sat.", "layer": 3, "head": 7, "merge": True}
    assert parse({"view": "translate", "text": "A dog.", "beam": "4", "step": "0"}).values == {
        "text": "A dog.",
        "beam": 4,
        "step": 0,
    }
    assert parse({}) == deep_links.NO_LINK and not parse({}).given


@pytest.mark.parametrize(
    "query, says",
    [
        ({"view": "self_attention", "layer": "999"}, "from 1 to 6, got '999'"),
        ({"view": "self_attention", "head": "0"}, "from 1 to 12"),
        ({"view": "self_attention", "head": "2.5"}, "whole number"),
        ({"view": "tag", "k": "1e9"}, "from 3 to 17"),
        ({"view": "translate", "beam": "nan"}, "from 1 to 8"),
        ({"view": "self_attention", "merge": "maybe"}, "1 or 0"),
        ({"view": "batch", "text": "   "}, "empty"),
        ({"view": "tag", "text": "a" * 5001}, "5001 characters; the limit is 5000"),
        ({"view": "tag", "bogus": "1"}, "'bogus' is not one of this view's (text, k, token, section)"),
        ({"view": "nope"}, "view='nope', which does not exist"),
        ({"text": "hello"}, "names no view"),
        ({"view": "tag", "text": "x" * 30000}, "Nothing in it was used"),
    ],
)
def test_a_bad_value_keeps_the_default_and_says_why(query, says):
    link = parse(query)
    assert any(says in n for n in link.notices), link.notices
    assert not link.values  # nothing bad is used


def test_gradio_own_parameters_are_not_ours_to_read():
    assert parse({"view": "api"}) == deep_links.NO_LINK
    assert parse({"__theme": "dark"}) == deep_links.NO_LINK
    assert parse({"view": "tag", "__theme": "dark", "k": "5"}).values == {"k": 5}


def test_a_notice_renders_as_text_never_markup():
    link = parse({"view": "<img src=x onerror=alert(1)>"})
    md = deep_links.notice_markdown(link.notices)
    assert "<img" not in md and "&lt;img" in md
    control = parse({"view": "tag", "text": "A\u202edog\u0000."})  # bidi override and NUL dropped, as when typed
    assert control.values["text"] == "Adog."


def test_every_view_has_its_link_parameters_and_the_js_names_them():
    assert {v.api_name for v in VIEWS} == set(LINKS)
    assert VIEWS[0].api_name == "lesson"  # the Lesson comes first
    for view, params in LINKS.items():
        names = [p.name for p in params]
        assert len(set(names)) == len(names) and "view" not in names
        js = deep_links.write_url_js(view, names)
        assert all(f'"{n}"' in js for n in names) and "replaceState" in js


def test_each_lesson_step_is_a_clean_link_to_an_existing_view():
    assert 8 <= len(lesson.STEPS) <= 12
    for step in lesson.STEPS:
        sentences = [s for s in step.text.replace("...", "").split(". ") if s.strip()]
        assert 2 <= len(sentences) <= 4, step.title
        query = dict(parse_qsl(step.link[1:]))
        link = parse(query)
        assert link.view == step.view and link.notices == (), (step.title, link.notices)
        assert link.values == step.values, step.title
    assert lesson.STEPS[0].view == "lesson"  # one-hot vs embeddings: the step no other tab shows


def test_lesson_words_are_checked_like_typed_text():
    assert lesson.read_words("Cat, dog cat  DOG car") == ["cat", "dog", "car"]
    with pytest.raises(ValueError, match="at least 2"):
        lesson.read_words("cat cat")
    with pytest.raises(ValueError, match="limit is 12"):
        lesson.read_words(" ".join(f"w{i}" for i in range(13)))


def test_each_tab_shows_its_models_card_sections():
    for view in VIEWS:
        paths = model_cards.cards_for(view.models.values())
        assert paths, view.api_name
        for path in paths:
            text = model_cards.card_summary(path)
            assert "licen" in text.lower() and "measured" in text.lower(), (view.api_name, path)
            assert "Reproduce" not in text  # the retraining commands stay in the file
    nli_card = model_cards.card_summary("assets/nli/MODEL_CARD.md")
    assert "77.59 %" in nli_card  # the measured score, read from the card file


def test_tokens_line_up_where_they_are_the_same_in_order():
    a = ["[CLS]", "it", "was", "too", "tired", ".", "[SEP]"]
    b = ["[CLS]", "it", "was", "too", "wide", ".", "[SEP]"]
    pairs = text_alignment.line_up(a, b)
    assert pairs == [(0, 0), (1, 1), (2, 2), (3, 3), (5, 5), (6, 6)]
    inserted = text_alignment.line_up(["a", "cat", "sat"], ["a", "big", "cat", "sat"])
    assert inserted == [(0, 0), (1, 2), (2, 3)]  # an inserted word shifts nothing after it
    A, B = np.eye(3), np.full((4, 4), 0.25)
    D = text_alignment.difference(A, B, inserted, inserted)
    assert D.shape == (3, 3) and np.allclose(D, np.eye(3) - 0.25)


@pytest.mark.bundled
def test_one_hot_vectors_are_orthogonal_and_embeddings_are_not():
    from models.runtime import RUNTIME

    r = lesson.analyze("cat dog car truck", RUNTIME.get("embeddings"))
    v = r.vectors
    off = ~np.eye(4, dtype=bool)
    assert np.allclose(v.onehot_cosine[off], 0) and np.allclose(np.diag(v.onehot_cosine), 1)
    assert v.embedding_cosine[0, 1] > v.embedding_cosine[0, 3]  # cat is nearer dog than truck
    assert v.vocabulary == 30522 and v.dim == 384
    assert [n for n, _ in v.neighbours[0]][:1] == ["cats"]
    assert all(n != w for w, found in zip(v.words, v.neighbours) for n, _ in found)
