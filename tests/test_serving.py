"""explorer.web.gradio_internals.StoredAnswers: the page's scripts are compressed once, and every visitor
gets the same bytes the file holds (decompressed), only for requests that accept brotli; the
page itself is built once per address and deep link, and every visitor gets what Gradio built."""

from __future__ import annotations

import asyncio

import brotli

from explorer.web.gradio_internals import StoredAnswers

SCRIPT = ("console.log('a plot library');\n" * 4000).encode()


class Files:
    """An ASGI app that serves one script and a page naming the host it was asked for, and
    counts how often it was asked."""

    def __init__(self, cookie: bool = False):
        self.asked = 0
        self.cookie = cookie

    async def __call__(self, scope, receive, send):
        self.asked += 1
        host = dict(scope["headers"]).get(b"host", b"")
        if scope["path"] == "/":
            body = b"<html>" + PAGE + b" served at " + host + b" " + scope.get("query_string", b"") + b"</html>"
            headers = [(b"content-type", b"text/html")] + ([(b"set-cookie", b"a=1")] if self.cookie else [])
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["path"] == "/static/fonts/a.woff2":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"font/woff2")]})
            await send({"type": "http.response.body", "body": FONT})
            return
        found = scope["path"] == "/assets/plot-1234.js"
        await send({"type": "http.response.start", "status": 200 if found else 404,
                    "headers": [(b"content-type", b"text/javascript"), (b"content-length", str(len(SCRIPT)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": SCRIPT if found else b"no such file"})


PAGE = b"<div>a layout</div>" * 2000
FONT = bytes(range(256)) * 40  # compressed already: sent as it is


def get(app, path: str, accept: bytes = b"gzip, deflate, br", host: bytes = b"127.0.0.1:7860", query: bytes = b""):
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    headers = [(b"accept-encoding", accept), (b"host", host)]
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": headers}
    asyncio.run(app(scope, receive, send))
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_a_script_is_compressed_once_and_every_visitor_gets_the_file():
    files = Files()
    app = StoredAnswers(files)
    for _ in range(3):
        status, headers, body = get(app, "/assets/plot-1234.js")
        assert status == 200 and headers["content-encoding"] == "br" and int(headers["content-length"]) == len(body)
        assert brotli.decompress(body) == SCRIPT and len(body) < len(SCRIPT) / 10
    assert files.asked == 1  # the second and third visitors were served from memory


def test_other_requests_pass_through_untouched():
    files = Files()
    app = StoredAnswers(files)
    assert get(app, "/assets/plot-1234.js", accept=b"gzip")[2] == SCRIPT  # no brotli: Gradio's own handling
    assert get(app, "/gradio_api/queue/join")[0] == 404 and get(app, "/assets/missing.js")[0] == 404
    assert get(app, "/assets/missing.js")[0] == 404  # a miss is not stored
    assert files.asked == 4


def test_the_page_is_built_once_per_address_and_link_and_is_what_gradio_built():
    files = Files()
    app = StoredAnswers(files)
    for _ in range(3):
        status, headers, body = get(app, "/")
        assert status == 200 and headers["content-encoding"] == "br"
        assert brotli.decompress(body) == b"<html>" + PAGE + b" served at 127.0.0.1:7860 </html>"
    assert files.asked == 1
    # Another address (a proxy's Host) or another deep link is another page, built for it.
    assert b"served at example.org" in brotli.decompress(get(app, "/", host=b"example.org")[2])
    assert b"view=nli" in brotli.decompress(get(app, "/", query=b"view=nli")[2])
    assert files.asked == 3
    # A browser without brotli gets the page as Gradio sent it.
    assert get(app, "/", accept=b"gzip")[2] == b"<html>" + PAGE + b" served at 127.0.0.1:7860 </html>"


def test_stored_pages_are_bounded_and_odd_pages_are_never_stored():
    files = Files()
    app = StoredAnswers(files)
    for k in range(StoredAnswers.MAX_PAGES + 10):
        get(app, "/", query=f"text={k}".encode())
    assert len(app.pages) == StoredAnswers.MAX_PAGES  # the oldest links were dropped
    asked = files.asked
    get(app, "/", query=b"text=" + b"x" * (StoredAnswers.MAX_QUERY + 1))
    get(app, "/", query=b"text=" + b"x" * (StoredAnswers.MAX_QUERY + 1))
    assert files.asked == asked + 2 and len(app.pages) == StoredAnswers.MAX_PAGES  # too long a link: built each time
    with_cookie = StoredAnswers(Files(cookie=True))
    get(with_cookie, "/")
    get(with_cookie, "/")
    assert with_cookie.app.asked == 2 and not with_cookie.pages  # an answer that sets a cookie is someone's own


def test_a_font_is_stored_as_it_is():
    files = Files()
    app = StoredAnswers(files)
    for _ in range(3):
        status, headers, body = get(app, "/static/fonts/a.woff2")
        assert status == 200 and "content-encoding" not in headers and body == FONT
    assert files.asked == 1
