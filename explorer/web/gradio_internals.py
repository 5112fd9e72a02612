"""Gradio's internals behind one door: every use of a Gradio submodule, a private name or the
shape of what Gradio sends lives here, written for one Gradio version (WRITTEN_FOR).

The fast paths below each save server CPU that stock Gradio spends again for every visitor or
answer; each one's comment states what it saves, measured on the 2-core VM. They are on only when
the installed Gradio is the version they were written for and EXPLORER_FAST_PATHS is not 0.
Otherwise stock Gradio serves the app (slower, correct), and announce() says so in one line at
start-up. The rest of the app calls this module's functions, which fall back to stock behaviour:

- plot_value(spec): a plot spec as Gradio sends it (PlotData) / a plotly go.Figure for gr.Plot
- serialized(answer), fresh_copy(answer): a first paint answered as Gradio would send it, stored
  once / the answer as it is, which Gradio postprocesses (FAST_PATHS is the load event's
  `postprocess=not FAST_PATHS`)
- app_kwargs(): the StoredAnswers middleware / nothing
- reuse_block_configs(blocks): each component's config computed once / as Gradio does per visit

Two uses are not fast paths and stay on either way, because the app is wrong without them:
check_before_preprocess (wrong-type messages naming the input: stock Gradio has no public hook
that sees an input's raw value before the component's own preprocess fails on it) and
update_properties (which properties an update sets: its range, for a link's decoding step).
tests/test_wrong_types.py and tests/test_fast_paths.py run the first against the installed Gradio,
with the fast paths on and off.

All of them together, measured with `python bench/page_open.py` and `EXPLORER_FAST_PATHS=0 python
bench/page_open.py` (server CPU seconds per page open once warmed up, median of 3 visits; a bare
five-tab Gradio page 0.23-0.24 in the same runs), 2026-12-03 on the idle 2-core VM: 0.28 with
the fast paths, 0.61 without. A class, `python bench/load_test.py --students 50 --seconds 60
--page-open 0` (the same with EXPLORER_FAST_PATHS=0), same day: 61 answers per server CPU second
with them, 43 without; p95 0.044 s and 0.090 s; RSS +5 % and +12 % over the minute.
"""

from __future__ import annotations

import inspect
import os
import sys
from collections import OrderedDict
from collections.abc import Callable, Mapping
from copy import deepcopy

import brotli  # installed with gradio, which compresses with it too
import gradio as gr
from starlette.middleware import Middleware

try:  # where Gradio 6.31 keeps them; another version may not, and then the fast paths are off anyway
    from gradio.blocks import BlocksConfig
    from gradio.components.plot import PlotData
    from gradio.data_classes import GradioModel, GradioRootModel
except ImportError:
    BlocksConfig = PlotData = GradioModel = GradioRootModel = None

from explorer.core.figures import figure, plotly_json

WRITTEN_FOR = "6.31.0"  # the Gradio version whose internals this module reads (requirements.txt pins it)
SWITCH = "EXPLORER_FAST_PATHS"  # 0 turns the fast paths off (the tests and benchmarks compare both)


def why_off(version: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Why the fast paths are off (one clause), or None when they are on. version: the installed
    Gradio's (gradio.__version__ by default); environ: os.environ by default."""
    version = gr.__version__ if version is None else version
    environ = os.environ if environ is None else environ
    if environ.get(SWITCH, "1").strip() == "0":
        return f"{SWITCH}=0 is set"
    if version != WRITTEN_FOR:
        return f"Gradio {version} is installed, they were written for {WRITTEN_FOR}"
    return None


def fast_paths_on(version: str | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether the fast paths may be used with this Gradio and environment (see why_off)."""
    return why_off(version, environ) is None


# Decided once per process, so that every part of the app (the load events' postprocess, the
# answers' plot values, the middleware) takes the same path.
OFF_BECAUSE = why_off()
FAST_PATHS = OFF_BECAUSE is None


def announce() -> None:
    """At start-up: one line on stderr when the fast paths are off, saying why."""
    if OFF_BECAUSE:
        line = f"Gradio fast paths off ({OFF_BECAUSE}): stock Gradio serves the app (slower, correct)."
        print(line, file=sys.stderr, flush=True)


def plot_value(spec: dict):
    """A plotly spec (explorer/core/figures.py) as the value gr.Plot takes.

    Fast path: the JSON Gradio would send (PlotData), without building a go.Figure, which costs
    more than the encoder's forward for the big attention grid (explorer/core/figures.py), and
    stored that way in the answer cache, so a cached answer costs a later request no
    serialization. Off: a go.Figure, which gr.Plot's postprocess turns into JSON per answer.
    """
    if FAST_PATHS:
        return PlotData(type="plotly", plot=plotly_json(spec))
    return figure(spec)


def update_properties(update) -> dict:
    """The properties an update (a component returned as an answer) sets, as it was called; not
    its defaults (a gr.Slider(value=3) says nothing of a maximum). Always on: no public name."""
    return update.constructor_args


def serialized(answer: Mapping, outputs=()) -> dict:
    """Each output's value as Gradio's postprocessing sends it: component.postprocess, then the
    data model's dump; an update (a component given as the answer) keeps its properties and its
    value is postprocessed by the update itself; a gr.State keeps the object (the session holds it).
    The event that returns it runs with postprocess=False (only with FAST_PATHS: the callers send
    the answer as it is otherwise).

    Why: serializing a first paint (a worker-thread hop per output, tables through pandas) cost a
    page open more than the answer itself, which comes from the shared answer cache (py-spy); a
    serialized answer is stored once (deep_links.Painter.page_open) and each visitor gets a copy.
    outputs: those the answer leaves out keep the value they have (their config's, serialized):
    without one Gradio would send a no-op update, for which it builds a new component and its
    config on every visit (15 % of a page open, py-spy).
    """

    def dumped(block, value):
        value = block.postprocess(value)
        return value.model_dump() if isinstance(value, (GradioModel, GradioRootModel)) else value

    out = {}
    for component, value in answer.items():
        if getattr(component, "stateful", False):
            out[component] = value
        elif isinstance(value, gr.blocks.Block):
            update = {**value.constructor_args, "__type__": "update"}
            if "value" in update:
                update["value"] = dumped(value, update["value"])
            out[component] = update
        elif isinstance(value, dict) and value.get("__type__") == "update":
            out[component] = {**value, **({"value": dumped(component, value["value"])} if "value" in value else {})}
        else:
            out[component] = dumped(component, value)
    for component in outputs:
        if component not in out and isinstance(component, gr.components.Component):
            out[component] = component.value  # as its config has it: serialized
    return out


def fresh_copy(answer: Mapping) -> dict:
    """A visitor's own copy of a stored serialized answer (a session may keep its values); a
    gr.State's object is shared, as the answer cache shares it."""
    return {c: v if getattr(c, "stateful", False) else deepcopy(v) for c, v in answer.items()}


def check_before_preprocess(blocks: gr.Blocks, kinds: tuple, check: Callable) -> None:
    """Every input of a kind in `kinds` that a named endpoint reads gets `check(component,
    payload) -> payload` before its own preprocess; component.checked_as is the input's parameter
    name in the first named endpoint that reads it. Called once, after every event is wired.

    Always on (a correctness feature, not a fast path): Gradio's public API has no hook that sees
    an input's raw value before the component's preprocess, which compares 'seven' < 1 and fails
    with a TypeError. It reads the Blocks' event table (blocks.fns) and swaps each input's class.
    """
    for block_fn in blocks.fns.values():
        if not block_fn.api_name or not block_fn.preprocess or block_fn.fn is None:
            continue
        names = [p.name for p in inspect.signature(block_fn.fn).parameters.values()]
        for component, name in zip(block_fn.inputs, names):
            if isinstance(component, kinds) and not hasattr(component, "checked_as"):
                component.__class__ = checked_class(type(component), name, check)


def checked_class(cls, name: str, check: Callable) -> type:
    """cls with `check` before its preprocess, for the input `name`. A class, not a patched
    instance: when an event updates a slider (its maximum read from the model), Gradio keeps the
    session's copy as `block.__class__(**constructor_args)`, which must check too. is_template:
    Gradio names the component after cls (the page draws a plain slider)."""
    base = cls

    def preprocess(self, payload):
        return base.preprocess(self, check(self, payload))

    # type.__new__, not Gradio's ComponentMeta.__new__: that one writes a .pyi stub next to the
    # source of every component class it makes, and this class adds no events or arguments.
    attrs = {"is_template": True, "checked_as": name, "preprocess": preprocess, "__module__": __name__}
    return type.__new__(type(cls), cls.__name__, (cls,), attrs)


class StoredAnswers:
    """ASGI middleware: answers that are the same for every visitor are made once per process,
    then sent from memory: the page's static files (scripts and styles compressed; fonts, images),
    and the page itself.

    Why, measured on this 2-core VM with py-spy over 3 page opens:
    - Gradio compresses every response as it sends it (brotli), and a fresh browser fetches the
      whole front end; the plot component's script alone is 4.6 MB. Streaming and compressing
      those files was about half of the server CPU one page open cost. The files under /assets/
      carry a content hash in their name and /static/ ones come with the installed Gradio. Fonts,
      images and the theme's CSS went through Gradio's file responses for every visitor too (12 %).
    - GET / builds the page's 550 kB HTML for each visitor: it deep-copies the API description
      of every endpoint (for the "Use via API" page) and the layout config into the HTML. That
      was 47 % of a page open's server CPU after the assets were stored, and Gradio does not
      compress it (its compressor looks at file extensions, and "/" has none).
    The page depends only on the app as built (this app has no login) and on what the request
    says about where it is served (host, proxy headers, root path), which is part of the key;
    deep-link query strings are part of it too, so the stored pages are bounded (MAX_PAGES, an
    LRU) and a query string longer than MAX_QUERY is built as before. Only complete 200 answers
    without cookies are stored. A response that already says how it is encoded passes Gradio's
    compressor untouched.
    """

    PREFIXES = ("/assets/", "/static/")  # Gradio's front end (names with a content hash) and its fonts, images
    FILES = ("/theme.css", "/favicon.ico", "/manifest.json")  # built from the app's theme and title
    COMPRESS = (".js", ".css", ".mjs", ".json", ".svg", ".map")  # fonts and images are compressed already
    QUALITY = 5  # brotli 0-11: once per answer, so a little denser than Gradio's per-response 4
    PAGE = "/"
    MAX_PAGES = 32  # pages kept (one per link and address): ~70 kB compressed, 550 kB for a browser without brotli
    MAX_QUERY = 2048
    # What Gradio reads to write the page's own address into it (route_utils.get_root_url).
    WHERE = (b"host", b"x-forwarded-host", b"x-forwarded-proto", b"x-forwarded-port", b"x-forwarded-prefix",
             b"forwarded")  # fmt: skip

    def __init__(self, app):
        self.app = app
        self.stored: dict = {}  # a static file's key -> its answer (a fixed set: the installed front end)
        self.pages: OrderedDict = OrderedDict()  # a page's key -> its answer, least recently asked first

    def key(self, scope) -> tuple | None:
        """What makes this request's answer, when it is one that is stored; None for the rest.
        The last item says whether the stored answer is brotli-compressed."""
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET":
            return None
        headers = dict(scope.get("headers") or [])
        accepts_brotli = b"br" in headers.get(b"accept-encoding", b"")
        query = scope.get("query_string", b"")
        if len(query) > self.MAX_QUERY:
            return None
        if path.startswith(self.PREFIXES) or path in self.FILES:
            # A static file's query string changes nothing (theme.css?v=<hash> only defeats browser
            # caches), and only files that exist are stored: the set is bounded by the install.
            return ("asset", path, accepts_brotli and path.endswith(self.COMPRESS))
        if path == self.PAGE:
            where = tuple(headers.get(name, b"") for name in self.WHERE)
            return ("page", query, scope.get("scheme"), scope.get("root_path", ""), where, accepts_brotli)
        return None

    async def __call__(self, scope, receive, send):
        key = self.key(scope)
        if key is None:
            return await self.app(scope, receive, send)
        answer = self.pages.get(key) if key[0] == "page" else self.stored.get(key)
        if answer is None:
            status, headers, body = await self._fetch(scope, receive)
            if status != 200 or any(k.lower() == b"set-cookie" for k, _ in headers):
                return await self._send(send, status, headers, body)
            answer = self._compressed(headers, body) if key[-1] else (status, headers, body)
            if key[0] == "asset":
                self.stored[key] = answer
            else:
                self.pages[key] = answer
                while len(self.pages) > self.MAX_PAGES:
                    self.pages.popitem(last=False)
        elif key[0] == "page":
            self.pages.move_to_end(key)
        await self._send(send, *answer)

    async def _fetch(self, scope, receive) -> tuple[int, list, bytes]:
        """The inner app's whole answer (status, headers, body), with nothing sent yet."""
        start: dict = {}
        chunks: list[bytes] = []

        async def collect(message):
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, collect)
        return start.get("status", 500), list(start.get("headers", [])), b"".join(chunks)

    def _compressed(self, headers: list, body: bytes) -> tuple[int, list, bytes]:
        packed = brotli.compress(body, quality=self.QUALITY)
        kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-encoding", b"vary")]
        kept += [(b"content-encoding", b"br"), (b"content-length", str(len(packed)).encode()),
                 (b"vary", b"Accept-Encoding")]  # fmt: skip
        return 200, kept, packed

    @staticmethod
    async def _send(send, status: int, headers: list, body: bytes) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def app_kwargs() -> dict:
    """What demo.launch(app_kwargs=...) gives Gradio's FastAPI app: the stored-answers middleware
    (nothing when the fast paths are off)."""
    return {"middleware": [Middleware(StoredAnswers)]} if FAST_PATHS else {}


def reuse_block_configs(blocks) -> None:
    """Compute each component's config once per process instead of once per visitor (nothing
    when the fast paths are off).

    Why: Gradio 6.31 builds a new session's state by asking every component of the page for its
    config (SessionState.__init__ -> BlocksConfig.config_for_block -> get_config, which inspects
    each component's signature). With this app's ~260 components that was 97 ms of server CPU per
    visit on this VM; a deep copy of the same dicts still took 10 % of a page open's CPU once the
    rest was stored (py-spy). The configs depend only on the components as built, so after launch
    (the page's config is built by then) each is computed once and every later session gets its
    own copy of the two levels Gradio writes to (SessionState replaces a component's config, or
    sets config["props"]["value"]); what lies deeper is only read, and shared. A session that
    changes a value changes its copy only. A session's updated component (a new object under the same id) and
    components rendered dynamically (gr.render) are computed as before. blocks: the app's gr.Blocks.
    Gradio is pinned (requirements.txt); tests/test_reliability.py checks the copies equal what
    Gradio computes.
    """
    compute = BlocksConfig.config_for_block
    if not FAST_PATHS or getattr(compute, "reused", False):
        return
    own = dict(blocks.blocks)  # component id -> the page's own component object
    stored: dict[int, dict] = {}

    def config_for_block(_id, rendered_ids, block, renderable=None):
        # A session's updated component is a new object under the same id, and dynamically
        # rendered ones are not the page's: those are computed as before and never stored.
        if rendered_ids or renderable is not None or own.get(_id) is not block:
            return compute(_id, rendered_ids, block, renderable)
        if _id not in stored:
            stored[_id] = compute(_id, rendered_ids, block, renderable)
        config = dict(stored[_id])
        if isinstance(config.get("props"), dict):
            config["props"] = dict(config["props"])
        return config

    config_for_block.reused = True
    BlocksConfig.config_for_block = staticmethod(config_for_block)
