"""How the app serves a classroom: threads, concurrency, batching, queue, warm-up, stored answers
(the malloc arenas and the launch settings are app.py's: they come before gradio is imported).

Chosen from `python bench/load_test.py` (a classroom: students with think time, board and own
sentences, every endpoint; README "Serving a classroom"), on the 2-core VM a free Space also has.
Measured 2026-12-01 at 100 students x 60 s, batching on, nothing else running:

| torch threads | requests at once per event | p50 s | p95 s | answers per server CPU second |
|---|---|---|---|---|
| 2 (torch's default here) | 1 | 0.088 | 1.10 | 22.8 |
| 1 | 1 | 0.092 | 1.14 | 24.9 |
| 1 | 2 | 0.077 | 1.29 | 25.6 |

The waits differ by less than one run differs from the next; what does not is the CPU an answer
costs. So: one torch thread per forward (app.py sets OMP_NUM_THREADS=1 before torch is imported;
a class keeps both cores busy with requests, and a small forward gains little from a second
thread), and one request at a time per event (Gradio counts each event listener apart, so the
six views' endpoints, their live versions and first paints still run side by side; a second
slot per event gave no shorter wait). What bounds a process is Python:
Gradio's queue, pre/postprocessing and JSON run under one interpreter lock, about 25 answers per
CPU second, so a bigger course takes more processes (README "Serving a larger course").
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import brotli  # installed with gradio, which compresses with it too
from gradio.blocks import BlocksConfig
from starlette.middleware import Middleware

# One request at a time per event listener (the table above): the models are shared read-only,
# and the views' events still run side by side, one request each.
CONCURRENCY_PER_VIEW = int(os.environ.get("EXPLORER_CONCURRENCY", "1"))  # the load test compares 1 and 2
# Requests waiting beyond this get Gradio's "queue is full" message at once, instead of a
# timeout minutes later. A class of 50 typing into live views stays well below it, because
# keystrokes collapse into the newest one per user (trigger_mode="always_last").
QUEUE_MAX_SIZE = 256
# Dynamic batching of the API endpoints whose model reads a batch in one forward (the tagger,
# the NLI model, greedy translation): up to this many queued requests share one forward.
MAX_BATCH = 8


def batching_enabled() -> bool:
    """EXPLORER_BATCHING=0 turns dynamic batching off (the load test compares both)."""
    return os.environ.get("EXPLORER_BATCHING", "1").strip().lower() not in ("0", "false", "no", "off")


def each_checked(inputs: Sequence, check: Callable[[Any], Any], run_many: Callable[[list], list]) -> tuple[list, int]:
    """Check each request's input alone, then run the model once on all that passed.

    Returns, in the order of `inputs`, each one's result or the ValueError its check raised,
    and how many went through the model together. This is what lets one batch hold a bad
    request without failing the good ones.
    """
    checked: list = []
    for item in inputs:
        try:
            checked.append(check(item))
        except ValueError as err:
            checked.append(err)
    good = [c for c in checked if not isinstance(c, ValueError)]
    results = iter(run_many(good) if good else [])
    return [c if isinstance(c, ValueError) else next(results) for c in checked], len(good)


def warm_up(first_paints: list) -> None:
    """Compute each view's first paint and examples once, in order, then its sections' examples, so
    their answers (and the models behind them) are in the shared cache before the class asks.
    first_paints: (View, FirstPaint) pairs from app.build_demo; a failure is logged and the rest go on."""
    log = logging.getLogger("explorer")
    start = time.perf_counter()
    for view, paint in first_paints:
        defaults = [component.value for component in paint.inputs]
        runs = [(view.api_name, paint.fn, args) for args in [defaults] + [view.api_args(e) for e in view.examples]]
        painted = {extra.name: extra for extra in paint.linked if extra.name}
        for section in view.sections:
            if section.cached and section.api_name in painted:  # a measurement is never cached: not warmed
                fn = painted[section.api_name].fn
                runs += [(section.api_name, fn, section.api_args(e)) for e in section.examples]
        for name, fn, args in runs:
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - a warm-up failure must not stop the server
                log.exception("warm-up of /%s failed", name)
    print(f"warm-up done in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)


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
    """What demo.launch(app_kwargs=...) gives Gradio's FastAPI app: the stored-answers middleware."""
    return {"middleware": [Middleware(StoredAnswers)]}


def reuse_block_configs(blocks) -> None:
    """Compute each component's config once per process instead of once per visitor.

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
    if getattr(compute, "reused", False):
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
