"""Translation view: analyze -> result invariants, step view, figures, exports, escaping, limits (tiny random models)."""

import csv

import numpy as np
import pytest

from explorer.core import figures as fg
from explorer.core.limits import MAX_BEAM, MAX_SOURCE_TOKENS
from explorer.views import translation

from conftest import require_bundled_translator


@pytest.fixture(scope="module")
def result(tiny_translator, tiny_baseline):
    return translation.analyze("A man rides a bike in the snow.", 3, tiny_translator, tiny_baseline)


def test_queued_requests_share_one_greedy_search_and_a_bad_one_gets_its_message(tiny_translator, tiny_baseline):
    requests = [("A man rides a bike.", 1), ("", 1), ("Two dogs run in the snow.", 1), ("A woman sings.", 3), ("x", 9)]
    many = translation.analyze_many(requests, tiny_translator, tiny_baseline)
    assert isinstance(many[1], ValueError) and "empty" in str(many[1])
    assert isinstance(many[4], ValueError) and "beam_size" in str(many[4])
    for (text, k), together in zip(requests, many):
        if isinstance(together, ValueError):
            continue
        alone = translation.analyze(text, k, tiny_translator, tiny_baseline)
        assert together.translation.target_tokens == alone.translation.target_tokens
        assert together.baseline.target_tokens == alone.baseline.target_tokens
        assert together.beam_size == k and together.run.batch == (2 if k == 1 else 1)
    assert "one batched search for 2 queued requests" in translation.status_markdown(many[0])


def test_result_invariants(result):
    r = result
    assert r.translation.attention.shape == (len(r.translation.target_tokens), len(r.translation.source_tokens))
    np.testing.assert_allclose(r.translation.attention.sum(axis=1), 1.0, rtol=1e-5)
    assert r.translation.source_tokens[-1] == "</s>" and r.translation.source_tokens[0] == "▁A"
    assert len(r.token_probs) == len(r.translation.target_tokens) and ((0 < r.token_probs) & (r.token_probs <= 1)).all()
    assert len(r.baseline_token_probs) == len(r.baseline.target_tokens)
    assert 1 <= len(r.translation.beams) <= 3 and r.translation.beams[0].text == r.translation.text and r.beam_size == 3


def test_figures_and_step_view(result):
    f = translation.figures(result)
    heat = f["alignment"]["data"][0]
    assert np.asarray(heat["z"]).shape == result.translation.attention.shape
    assert list(f["alignment"]["layout"]["xaxis"]["ticktext"]) == [
        fg.label(t) for t in result.translation.source_tokens
    ]
    assert list(f["beams"]["rank"]) == list(range(1, len(result.translation.beams) + 1))
    assert list(f["comparison"]["translation"]) == [result.translation.text, result.baseline.text]
    for t in range(len(result.translation.target_tokens)):
        bars, written = translation.step_view(result, t)
        np.testing.assert_allclose(bars["data"][0]["x"], result.translation.attention[t])
        assert [tok for tok, _ in written] == result.translation.target_tokens[: t + 1]
        assert written[-1][1] == f"step {t}"
    bars, _ = translation.step_view(result, 10_000)  # past the end: the last step, not an error
    np.testing.assert_allclose(bars["data"][0]["x"], result.translation.attention[-1])


def test_exports_are_a_csv_matrix_and_a_png(result, tmp_path):
    csv_path, png_path = translation.export_files(result, tmp_path)
    with open(csv_path, encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][1:] == result.translation.source_tokens
    assert [row[0] for row in rows[1:]] == result.translation.target_tokens
    np.testing.assert_allclose(
        np.array([[float(x) for x in row[1:]] for row in rows[1:]]), result.translation.attention, atol=1e-5
    )
    with open(png_path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_one_token_input_and_single_step(tiny_translator, tiny_baseline):
    r = translation.analyze("Hi", 1, tiny_translator, tiny_baseline)
    assert len(r.translation.source_tokens) >= 2
    translation.figures(r)
    translation.step_view(r, 0)


def test_hostile_tokens_are_escaped(tiny_translator, tiny_baseline, tmp_path):
    r = translation.analyze(
        "<img src=x onerror=alert(1)> </script><b>bold</b> $x$ =1+2", 2, tiny_translator, tiny_baseline
    )
    fig = translation.alignment_figure(r)
    labels = list(fig["layout"]["xaxis"]["ticktext"]) + list(fig["layout"]["yaxis"]["ticktext"])
    labels += [str(c) for row in fig["data"][0]["customdata"] for c in row]
    assert any("&lt;" in s for s in labels)
    assert not any("<" in s for s in labels)
    bars, _ = translation.step_view(r, 0)
    assert not any("<" in str(y) for y in bars["data"][0]["y"]) and "<" not in bars["layout"]["title"]["text"]
    assert "<" not in translation.status_markdown(r).replace("&lt;", "")
    translation.export_files(r, tmp_path)  # "$x$" must not trip matplotlib's math mode


def test_unknown_and_split_words_are_reported(tiny_translator, tiny_baseline):
    r = translation.analyze("A skateboarder ❤ 東京", 1, tiny_translator, tiny_baseline)
    status = translation.status_markdown(r)
    assert "Unknown to the model" in status and "❤" in status
    assert "skateboarder" in r.split_words and "cut into subword pieces" in status


def test_split_words():
    assert translation.split_words(["▁A", "▁skate", "board", "er", "▁rides", ".", "</s>"]) == ["skateboarder"]
    assert translation.split_words(["▁", "<unk>", "▁Hi", "</s>"]) == []


@pytest.mark.parametrize(
    "text, beam, message",
    [
        ("", 1, "empty"),
        ("\u200b\u200b", 1, "empty"),
        ("word " * 70, 1, f"the limit is {MAX_SOURCE_TOKENS}"),
        ("x" * 6000, 1, "6000 characters"),
        ("A man.", 0, "beam_size"),
        ("A man.", MAX_BEAM + 1, "beam_size"),
        ("A man.", 2.5, "beam_size"),
        ("A man.", None, "beam_size"),
    ],
)
def test_bad_input_gets_a_clear_message(tiny_translator, tiny_baseline, text, beam, message):
    with pytest.raises(ValueError, match=message):
        translation.analyze(text, beam, tiny_translator, tiny_baseline)


def test_csv_cells_cannot_become_formulas():
    assert translation.csv_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert translation.csv_cell("▁Mann") == "▁Mann" and translation.csv_cell("-") == "-"


def test_bleu_by_length_chart_from_the_bundled_evaluation():
    require_bundled_translator()
    data = translation.bleu_by_length()
    assert data is not None, "assets/translator/bleu_by_length.json is missing: python -m training.evaluate_translator"
    fig = translation.bleu_by_length_figure()
    assert [d["name"] for d in fig["data"]] == ["without attention", "with attention", "Transformer"]
    assert len(fig["data"][0]["y"]) == len(data["buckets"]) and sum(b["count"] for b in data["buckets"]) == 1000
