"""The app's only HTML built from user text: bertviz's head view and model view, embedded.

bertviz (Vig 2019) renders with d3 v5 and jQuery, which its own HTML fetches from a CDN
through require.js, and it inlines its parameters (tokens included) in a <script> as raw
JSON. Here the same bertviz JavaScript gets:
  - d3 5.7.0 and jQuery from registry packages installed with the app (mpld3 and
    xstatic-jquery), served by gradio from site-packages: no network, never committed;
    the CDN only when those packages are missing, with a note saying so;
  - a five-line AMD shim instead of require.js: bertviz only calls require.config (a
    no-op here) and requirejs([...], body), which the shim answers with the globals;
  - its parameters as JSON whose '<', '>' and '&' are \\u escapes, so no token (say
    '</script>' or '<!--<script>') can end or re-open the script;
  - weights rounded to 3 decimals (bertviz's colours cannot show more), T capped;
  - a sandboxed iframe (scripts, no same-origin) whose srcdoc is html.escape'd.
"""

from __future__ import annotations

import html
import importlib.util
import json
import uuid
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import numpy as np

from .limits import MAX_BERTVIZ_TOKENS

# (package, file inside it); found with find_spec, so mpld3 (and matplotlib) is never imported.
LOCAL_SCRIPTS = {
    "d3": ("mpld3", "js/d3.v5.min.js"),  # d3 5.7.0, the version bertviz asks for
    "jquery": ("xstatic.pkg.jquery", "data/jquery.min.js"),  # jQuery 3.7; bertviz uses $(), .on, .empty, .attr
}
CDN_SCRIPTS = {  # bertviz's own choice, used only when the packages above are missing
    "d3": "https://cdnjs.cloudflare.com/ajax/libs/d3/5.7.0/d3.min.js",
    "jquery": "https://cdnjs.cloudflare.com/ajax/libs/jquery/2.0.0/jquery.min.js",
}
# gradio serves a file registered with gr.set_static_paths at <page>/gradio_api/file=<path>.
# Relative, so it also works under a proxy prefix; a srcdoc document resolves it against the
# page that holds the iframe.
STATIC_ROUTE = "gradio_api/file="
VIEWS = ("head", "model")
DECIMALS = 3

# bertviz calls require.config({paths: ...}) then requirejs(['jquery', 'd3'], body).
AMD_SHIM = """
window.require = {config: function () {}};
window.requirejs = function (names, body) {
  var found = {jquery: window.jQuery, d3: window.d3};
  if (!window.jQuery || !window.d3) { document.body.textContent = "bertviz could not load d3 / jQuery."; return; }
  body.apply(null, names.map(function (n) { return found[n]; }));
};
"""


def _package_file(package: str, relative: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def local_scripts() -> dict[str, Path]:
    """The d3 / jQuery files found in site-packages (register them with gr.set_static_paths)."""
    found = {name: _package_file(*where) for name, where in LOCAL_SCRIPTS.items()}
    return {name: path for name, path in found.items() if path is not None}


def script_sources() -> tuple[list[str], str]:
    """(script URLs in load order: d3, jQuery; a note, "" when both are local)."""
    local = local_scripts()
    urls = [STATIC_ROUTE + quote(str(local[n])) if n in local else CDN_SCRIPTS[n] for n in LOCAL_SCRIPTS]
    missing = [n for n in LOCAL_SCRIPTS if n not in local]
    note = ""
    if missing:
        note = (
            f"No local copy of {', '.join(missing)} (packages mpld3 / xstatic-jquery): bertviz loads it from "
            "cdnjs.cloudflare.com and stays blank offline. `pip install -r requirements.txt` installs them."
        )
    return urls, note


def _script_json(value) -> str:
    """JSON that is also inert inside <script>: no '<', '>' or '&' survive as characters."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _pretty(tokens: list[str]) -> list[str]:
    # bertviz's format_special_chars: GPT-2 / SentencePiece word markers become spaces.
    return [t.replace("Ġ", " ").replace("▁", " ").replace("</w>", "") for t in tokens]


def _block(name: str | None, attention: np.ndarray, left: list[str], right: list[str]) -> dict:
    """bertviz's attn_data entry: attn[L][H][len(left)][len(right)], rounded to DECIMALS."""
    return {
        "name": name,
        "attn": np.round(np.asarray(attention, dtype=np.float64), DECIMALS).tolist(),
        "left_text": left,
        "right_text": right,
    }


def _check_length(n: int) -> None:
    if n > MAX_BERTVIZ_TOKENS:
        raise ValueError(
            f"bertviz is limited to {MAX_BERTVIZ_TOKENS} tokens (its page grows with T²); this input "
            f"has {n}. The maps above show all {n}; shorten the text to use bertviz."
        )


def bertviz_iframe(
    view: str,
    tokens: list[str],
    attentions: np.ndarray,
    sentence_b_start: int | None = None,
    script_urls: list[str] | None = None,
) -> str:
    """bertviz's head or model view of attentions [layers, heads, T, T] as a sandboxed iframe.

    Raises ValueError when T exceeds MAX_BERTVIZ_TOKENS; tokens may contain any text.
    """
    attentions = np.asarray(attentions)
    L, H, T, T2 = attentions.shape
    if T != T2 or T != len(tokens):
        raise ValueError(f"Attention has {T}x{T2} positions, while number of tokens is {len(tokens)}.")
    _check_length(T)
    tokens = _pretty([str(t) for t in tokens])
    if sentence_b_start is None:
        attention = [_block(None, attentions, tokens, tokens)]
    else:
        sa, sb = slice(0, sentence_b_start), slice(sentence_b_start, T)
        attention = [_block("All", attentions, tokens, tokens)] + [
            _block(f"Sentence {a} -> Sentence {b}", attentions[:, :, rows, cols], tokens[rows], tokens[cols])
            for (a, rows), (b, cols) in [(("A", sa), ("A", sa)), (("B", sb), ("B", sb)), (("A", sa), ("B", sb)),
                                         (("B", sb), ("A", sa))]
        ]  # fmt: skip
    return _frame(view, attention, L, H, T, script_urls)


def bertviz_encoder_decoder_iframe(
    view: str,
    source_tokens: list[str],
    decoder_tokens: list[str],
    encoder_attention: np.ndarray,
    decoder_attention: np.ndarray,
    cross_attention: np.ndarray,
    script_urls: list[str] | None = None,
) -> str:
    """bertviz's head or model view of an encoder-decoder, as bertviz draws one (its
    encoder_attention / decoder_attention / cross_attention arguments): a menu picks Encoder
    [L, H, S, S], Decoder [L, H, T, T] or Cross [L, H, T, S] (queries: decoder_tokens, the
    decoder's T inputs; keys: source_tokens). Raises ValueError on mismatched shapes or when S
    or T exceeds MAX_BERTVIZ_TOKENS; tokens may contain any text.
    """
    encoder, decoder, cross = (np.asarray(a) for a in (encoder_attention, decoder_attention, cross_attention))
    S, T = len(source_tokens), len(decoder_tokens)
    for name, a, shape in (("Encoder", encoder, (S, S)), ("Decoder", decoder, (T, T)), ("Cross", cross, (T, S))):
        if a.ndim != 4 or a.shape[2:] != shape:
            raise ValueError(
                f"{name} attention has shape {a.shape}; expected [layers, heads, {shape[0]}, {shape[1]}] "
                f"for {S} source and {T} decoder tokens."
            )
    if not encoder.shape[:2] == decoder.shape[:2] == cross.shape[:2]:
        raise ValueError(
            f"bertviz draws one layers x heads layout; encoder {encoder.shape[:2]}, decoder {decoder.shape[:2]} "
            f"and cross {cross.shape[:2]} differ."
        )
    _check_length(max(S, T))
    source, target = _pretty([str(t) for t in source_tokens]), _pretty([str(t) for t in decoder_tokens])
    attention = [
        _block("Encoder", encoder, source, source),
        _block("Decoder", decoder, target, target),
        _block("Cross", cross, target, source),
    ]
    L, H = encoder.shape[:2]
    return _frame(view, attention, L, H, max(S, T), script_urls)


def _frame(view: str, attention: list[dict], L: int, H: int, T: int, script_urls: list[str] | None) -> str:
    """The sandboxed iframe of bertviz's `view` ("head" | "model") over its attn_data blocks (T: the longest side)."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {VIEWS}, got {view!r}.")
    if script_urls is None:
        script_urls = script_sources()[0]
    root = f"bertviz-{uuid.uuid4().hex}"
    params = {"attention": attention, "default_filter": "0", "root_div_id": root, "include_layers": list(range(L))}
    if view == "head":
        params.update(layer=None, heads=None)
        height = min(1000, 130 + 23 * T)
    else:
        params.update(display_mode="light", include_heads=list(range(H)), total_heads=H)
        height = min(900, int(L * (7 * 12 / H * T + 10) + 60))
    filter_select = ""
    if len(attention) > 1:  # the sentence A / B or Encoder / Decoder / Cross filters, as bertviz offers them
        options = "".join(f'<option value="{i}">{html.escape(d["name"])}</option>' for i, d in enumerate(attention))
        filter_select = f'Attention: <select id="filter">{options}</select>'

    layer_select = 'Layer: <select id="layer"></select> ' if view == "head" else ""
    # bertviz's JS as shipped; only its PYTHON_PARAMS marker (first one: the second sits in a
    # comment, where bertviz itself pastes the whole JSON a second time) becomes our JSON.
    js = (Path(importlib.util.find_spec("bertviz").submodule_search_locations[0]) / f"{view}_view.js").read_text(
        encoding="utf-8"
    )
    assert "</script" not in js.lower(), "bertviz's JS would end our <script> early"
    js = js.replace("PYTHON_PARAMS", _script_json(params), 1)
    scripts = "".join(f'<script src="{html.escape(url, quote=True)}"></script>' for url in script_urls)
    doc = (
        '<!doctype html><html><head><meta charset="utf-8">'
        "<style>body{margin:8px;font-family:'Helvetica Neue',Helvetica,Arial,sans-serif;background:#fff}</style>"
        f"{scripts}<script>{AMD_SHIM}</script></head><body>"
        f'<div id="{root}"><span style="user-select:none">{layer_select}{filter_select}</span><div id="vis"></div></div>'
        f"<script>{js}</script></body></html>"
    )
    title = f"bertviz {view} view"
    return (
        f'<iframe sandbox="allow-scripts" title="{title}" class="bertviz-frame" data-view="{view}" '
        f'style="width:100%;height:{height}px;border:1px solid #ddd;border-radius:6px" '
        f'srcdoc="{html.escape(doc, quote=True)}"></iframe>'
    )
