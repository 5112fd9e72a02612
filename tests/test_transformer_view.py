"""The Transformer view's analysis: grids, the zoom with the causal mask drawn as masked, step
figures, GRU vs Transformer agreement, input checks, escaping, exports, bertviz and the training
history. Most tests use the bundled translators; a few tiny random ones check that the figures
take the model's sizes from the result."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from test_self_attention import HOSTILE, TagCollector, _params

from explorer.core import figures as fg
from explorer.core.limits import MAX_BEAM, MAX_SOURCE_TOKENS
from explorer.core.safe_html import bertviz_encoder_decoder_iframe
from explorer.views.transformer import analysis as tv

from conftest import require_bundled_translator

BIKE = "A man is riding a bike."


@pytest.fixture(scope="module")
def transformer():
    require_bundled_translator()
    from models import load_translator

    return load_translator(variant="transformer")


@pytest.fixture(scope="module")
def gru():
    require_bundled_translator()
    from models import load_translator

    return load_translator()


@pytest.fixture(scope="module")
def bike(transformer, gru):
    return tv.analyze(BIKE, 1, transformer, gru)


def main_trace(spec: dict) -> dict:
    return spec["data"][0]


def z_of(spec: dict) -> np.ndarray:
    return np.asarray(main_trace(spec)["z"], dtype=float)


# -- words and the forced GRU ---------------------------------------------------------------
@pytest.mark.parametrize(
    "text", ["A man in a t-shirt is riding a skateboard.", "The dog's owner, 3.5 km away (far)!", "Hi"]
)
def test_word_units_are_the_tokenizers_words(transformer, gru, text):
    for tokenizer in (transformer.source_tokenizer, gru.source_tokenizer, gru.target_tokenizer):
        encoding = tokenizer.encode(text)
        words, unit = tv.word_units(encoding.tokens + ["</s>"])
        assert list(unit[:-1]) == list(encoding.word_ids) and words[-1] == "</s>"
        assert "".join(words[:-1]).replace("▁", "") == text.replace(" ", "")  # a lone "▁" before "(" stays a word


def test_force_gives_the_grus_own_alpha_on_its_own_output(gru):
    own = gru.translate(BIKE, beam_size=1)
    forced = gru.force(BIKE, own.text)
    assert forced.target_tokens == own.target_tokens and forced.beams == [forced]
    np.testing.assert_allclose(forced.attention, own.attention, atol=1e-5)
    np.testing.assert_allclose(forced.token_log_probs, own.token_log_probs, atol=1e-4)


def test_force_on_any_target(tiny_translator, tiny_baseline):
    forced = tiny_translator.force("A man rides a bike.", "Zwei Hunde spielen.")
    assert forced.target_tokens[-1] == "</s>" and forced.text == "Zwei Hunde spielen."
    assert forced.attention.shape == (len(forced.target_tokens), len(forced.source_tokens))
    np.testing.assert_allclose(forced.attention.sum(axis=1), 1.0, rtol=1e-5)
    assert (forced.token_log_probs <= 0).all()
    with pytest.raises(ValueError, match="no attention"):
        tiny_baseline.force("A man rides a bike.", "Ein Mann.")


def test_word_alignment_rows_sum_to_one():
    A = np.random.default_rng(0).dirichlet(np.ones(5), size=4)  # (T=4, S=5)
    W = tv.word_alignment(A, np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2, 3]))
    assert W.shape == (3, 4)
    np.testing.assert_allclose(W.sum(axis=1), 1.0)
    np.testing.assert_allclose(W[0, 1], (A[0, 1] + A[0, 2] + A[1, 1] + A[1, 2]) / 2)


# -- agreement ------------------------------------------------------------------------------
def test_agreement_on_a_simple_caption(bike):
    w = bike.words
    assert bike.translation.text == "Ein Mann fährt Fahrrad."
    assert 0.0 <= w.agreement <= 1.0 and w.count == len(w.target_words) - 1  # every word but </s>
    assert w.agreement >= 0.5
    agree = dict(zip(w.target_words, w.same_choice))
    assert agree["Mann"] and agree["fährt"] and agree["Fahrrad"]
    assert w.transformer.shape == w.gru.shape == (len(w.target_words), len(w.source_words))


@pytest.mark.parametrize("text", tv.EXAMPLES)
def test_examples_translate_and_agree_in_range(transformer, gru, text):
    r = tv.analyze(text, 1, transformer, gru)
    expected = {
        tv.EXAMPLES[0]: ("Mann", "Fahrrad"),
        tv.EXAMPLES[1]: ("Mädchen", "Ball", "Strand"),
        tv.EXAMPLES[2]: ("Frau", "Kleid", "Bühne"),
        tv.EXAMPLES[3]: ("Hund", "Gras"),
        tv.EXAMPLES[4]: ("Männer", "Dach"),
    }[text]
    assert all(word in r.translation.text for word in expected), r.translation.text
    assert 0.5 <= r.words.agreement <= 1.0


# -- figures --------------------------------------------------------------------------------
def test_grids_zoom_and_average_have_the_models_shapes(bike):
    t = bike.translation
    L, H = t.cross_attention.shape[:2]
    S, T = len(t.source_tokens), len(t.target_tokens)
    f = tv.figures(bike, "cross", 2, 1, 0)
    assert z_of(f["encoder_grid"]).shape == (L * S, H * S)
    assert z_of(f["decoder_grid"]).shape == (L * T, H * T)
    assert z_of(f["cross_grid"]).shape == (L * T, H * S)
    np.testing.assert_allclose(z_of(f["zoom"]), np.round(t.cross_attention[1, 0], 3), atol=1e-6)
    np.testing.assert_allclose(z_of(f["head_average"]), np.round(t.cross_attention[1].mean(0), 3), atol=1e-6)
    np.testing.assert_allclose(
        z_of(tv.figures(bike)["zoom"]), np.round(t.attention, 3), atol=1e-6
    )  # default: the alignment layer's head mean, the alignment itself
    assert f["translation"] == t.text
    for name in ("encoder_grid", "decoder_grid", "cross_grid", "zoom", "head_average", "alignment_pair"):
        go.Figure(f[name])  # plotly's validation: raises on any unknown property
    for kind in tv.KINDS:
        assert z_of(tv.zoom_figure(bike, kind, L, H)).shape == (
            (S, S) if kind == "encoder" else (T, S if kind == "cross" else T)
        )


def test_decoder_zoom_draws_the_future_as_masked_not_zero(bike):
    T = len(bike.translation.target_tokens)
    above = ~np.tri(T, dtype=bool)
    for head in (0, 1):
        spec = tv.zoom_figure(bike, "decoder", 1, head)
        z = z_of(spec)
        assert np.isnan(z[above]).all() and not np.isnan(z[~above]).any()
        np.testing.assert_allclose(np.nansum(z, axis=1), 1.0, atol=0.01)
        mask_layer = [d for d in spec["data"] if d.get("name") == tv.MASKED_NOTE]
        assert len(mask_layer) == 1 and mask_layer[0]["showlegend"]
        np.testing.assert_array_equal(~np.isnan(np.asarray(mask_layer[0]["z"], dtype=float)), above)
    grid = z_of(tv.grid_figure(bike, "decoder"))  # (L*T, H*T)
    assert np.isnan(grid[:T, :T][above]).all() and not np.isnan(grid[:T, :T][~above]).any()
    assert tv.MASKED_NOTE in json.dumps(tv.grid_figure(bike, "decoder")["layout"]["annotations"])
    assert not np.isnan(z_of(tv.zoom_figure(bike, "encoder", 1, 1))).any()


def test_step_figures_at_every_step(bike):
    t = bike.translation
    T, S = len(t.target_tokens), len(t.source_tokens)
    for step in range(T):
        f = tv.step_figures(bike, step)
        decoder_row, cross_row = z_of(f["decoder_step"]), z_of(f["cross_step"])
        assert decoder_row.shape == (1, T) and cross_row.shape == (1, S)
        assert np.isnan(decoder_row[0, step + 1 :]).all() and not np.isnan(decoder_row[0, : step + 1]).any()
        assert np.nansum(decoder_row) == pytest.approx(1.0, abs=0.01)
        np.testing.assert_allclose(cross_row[0], np.round(t.attention[step], 3), atol=1e-6)
        assert [tok for tok, _ in f["written"]] == t.target_tokens[: step + 1]
        assert f["written"][-1][1] == f"step {step}"
        go.Figure(f["decoder_step"]), go.Figure(f["cross_step"])
    with pytest.raises(ValueError, match=f"step must be a whole number from 0 to {T - 1}"):
        tv.step_figures(bike, T)


def test_alignment_pair_shows_both_models_and_the_agreement(bike):
    spec = tv.alignment_pair_figure(bike)
    heatmaps = [d for d in spec["data"] if d["type"] == "heatmap"]
    assert len(heatmaps) == 2 and heatmaps[1]["xaxis"] == "x2"
    np.testing.assert_allclose(np.asarray(heatmaps[0]["z"], dtype=float), np.round(bike.words.gru, 3), atol=1e-6)
    np.testing.assert_allclose(
        np.asarray(heatmaps[1]["z"], dtype=float), np.round(bike.words.transformer, 3), atol=1e-6
    )
    assert f"Agreement {bike.words.agreement:.0%}" in spec["layout"]["title"]["text"]


def test_out_of_range_views_are_refused(bike):
    with pytest.raises(ValueError, match="layer must be a whole number from 1 to 3"):
        tv.zoom_figure(bike, "cross", 4, 1)
    with pytest.raises(ValueError, match=r"head \(0 = the average of the heads\) must be a whole number from 0 to 4"):
        tv.zoom_figure(bike, "cross", 1, 1.5)
    with pytest.raises(ValueError, match="kind must be one of"):
        tv.zoom_figure(bike, "sideways", 1, 1)


def test_sizes_come_from_the_model(tiny_translator):
    from fakes import tiny_transformer

    small = tiny_transformer()
    r = tv.analyze("A man rides a bike.", 2, small, tiny_translator)
    assert (r.layers, r.heads) == (2, 2) and r.alignment_layer == 0  # penultimate of 2
    T, S = len(r.translation.target_tokens), len(r.translation.source_tokens)
    f = tv.figures(r, "decoder", 2, 2, T - 1)
    assert z_of(f["cross_grid"]).shape == (2 * T, 2 * S)
    assert 0.0 <= (r.words.agreement or 0.0) <= 1.0


# -- input checks and escaping -------------------------------------------------------------
@pytest.mark.parametrize(
    "text, beam_size, message",
    [
        ("", 1, "empty"),
        ("   \n\t ", 1, "empty"),
        ("bike " * 80, 1, f"the limit is {MAX_SOURCE_TOKENS}"),
        (BIKE, 0, f"from 1 to {MAX_BEAM}"),
        (BIKE, MAX_BEAM + 1, f"from 1 to {MAX_BEAM}"),
        (BIKE, "three", f"from 1 to {MAX_BEAM}"),
    ],
)
def test_bad_input_is_refused_with_a_reason(transformer, gru, text, beam_size, message):
    with pytest.raises(ValueError, match=message):
        tv.analyze(text, beam_size, transformer, gru)


MARKUP = "<script>alert(1)</script> A man ☃ rides a bike."


def test_markup_never_appears_unescaped(transformer, gru):
    r = tv.analyze(MARKUP, 1, transformer, gru)
    assert r.translation.unknown  # ☃ is not in the vocabulary: the status names it
    f = tv.figures(r)
    assert "<script" not in f["status"] and "<b>" not in f["status"] and "☃" in f["status"]
    for name in ("encoder_grid", "cross_grid", "zoom", "alignment_pair"):
        assert "<script" not in fg.plotly_json(f[name])
    frame = tv.bertviz_html(r)
    outer = TagCollector()
    outer.feed(frame)
    assert [t for t, _ in outer.tags] == ["iframe"] and outer.tags[0][1]["sandbox"] == "allow-scripts"
    inner = TagCollector()
    inner.feed(outer.tags[0][1]["srcdoc"])
    assert {t for t, _ in inner.tags} <= {
        "html",
        "head",
        "meta",
        "style",
        "script",
        "body",
        "div",
        "span",
        "select",
        "option",
    }
    assert "alert(1)" not in "".join(inner.scripts[:-1]) and len(inner.scripts) == 4
    params = _params(inner.scripts[-1])
    assert [block["name"] for block in params["attention"]] == ["Encoder", "Decoder", "Cross"]


def test_bertviz_encoder_decoder_keeps_hostile_tokens_as_data():
    S, T, rng = len(HOSTILE), 5, np.random.default_rng(0)
    encoder = rng.dirichlet(np.ones(S), size=(2, 3, S))
    decoder = rng.dirichlet(np.ones(T), size=(2, 3, T))
    cross = rng.dirichlet(np.ones(S), size=(2, 3, T))
    targets = HOSTILE[1 : 1 + T]
    for view in ("head", "model"):
        frame = bertviz_encoder_decoder_iframe(view, HOSTILE, targets, encoder, decoder, cross, ["d3.js", "jq.js"])
        assert re.fullmatch(r'<iframe [^<>]*srcdoc="[^"<>]*"></iframe>', frame)
        inner = TagCollector()
        inner.feed(html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1)))
        assert "img" not in {t for t, _ in inner.tags} and len(inner.scripts) == 4
        blocks = _params(inner.scripts[-1])["attention"]
        assert blocks[0]["left_text"] == HOSTILE and blocks[2]["left_text"] == targets
        assert np.asarray(blocks[2]["attn"]).shape == (2, 3, T, S)
    with pytest.raises(ValueError, match="Cross attention has shape"):
        bertviz_encoder_decoder_iframe("model", HOSTILE, targets, encoder, decoder, cross[:, :, :, :2])


# -- exports and the training history --------------------------------------------------------
def test_exports_are_written_and_readable(bike, tmp_path):
    paths = tv.write_exports(bike, tmp_path)
    t = bike.translation
    alignment = pd.read_csv(paths[0], index_col=0)
    assert alignment.shape == (len(t.target_tokens), len(t.source_tokens))
    assert list(alignment.columns) == fg.numbered(t.source_tokens)
    np.testing.assert_allclose(alignment.to_numpy(), t.attention, atol=1e-6)
    words = pd.read_csv(paths[1])
    assert set(words["model"]) == {"transformer", "gru"} and len(words) == 2 * len(bike.words.target_words)
    payload = json.loads(Path(paths[2]).read_text(encoding="utf-8"))
    assert payload["source"] == t.source_tokens and payload["target"] == t.target_tokens
    for kind in tv.KINDS:
        assert np.asarray(payload[f"{kind}_attention"]).shape == getattr(t, f"{kind}_attention").shape
    assert payload["agreement"]["value"] == pytest.approx(bike.words.agreement)


def test_history_figure_for_the_first_and_last_epoch():
    history = tv.load_history()
    assert history is not None and tv.load_history() is history  # read once
    epochs = [e["epoch"] for e in history["epochs"]]
    for epoch in (epochs[0], epochs[-1]):
        f = tv.history_figure(history, epoch)
        e = history["epochs"][epochs.index(epoch)]
        caption = e["sentences"][0]
        assert z_of(f["history_alignment"]).shape == (len(caption["target_tokens"]), len(history["source_tokens"][0]))
        assert f"{e['val_bleu']:.1f}" in f["history_alignment"]["layout"]["title"]["text"]
        marked = f["history_bleu"]["data"][1]["y"]
        assert [i for i, y in enumerate(marked) if y is not None] == [epochs.index(epoch)]
        go.Figure(f["history_alignment"]), go.Figure(f["history_bleu"])
    assert epochs == list(range(epochs[0], epochs[-1] + 1))
    with pytest.raises(ValueError, match=f"epoch must be a whole number from {epochs[0]} to {epochs[-1]}"):
        tv.history_figure(history, epochs[-1] + 1)
    assert "appears once" in tv.history_figure(None, 1)["history_status"]


def test_analysis_imports_neither_gradio_nor_torch():
    """Its own imports (explorer/__init__.py imports every tab, so sys.modules would not tell)."""
    tree = ast.parse(Path(tv.__file__).read_text(encoding="utf-8"))
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not {name.split(".")[0] for name in names} & {"gradio", "torch", "models"}
