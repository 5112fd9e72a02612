"""explorer.serving.CompressedAssets: the page's scripts are compressed once, and every visitor
gets the same bytes the file holds (decompressed), only for requests that accept brotli."""

from __future__ import annotations

import asyncio

import brotli

from explorer.serving import CompressedAssets

SCRIPT = ("console.log('a plot library');\n" * 4000).encode()


class Files:
    """An ASGI app that serves one script and counts how often it was asked."""

    def __init__(self):
        self.asked = 0

    async def __call__(self, scope, receive, send):
        self.asked += 1
        found = scope["path"] == "/assets/plot-1234.js"
        await send({"type": "http.response.start", "status": 200 if found else 404,
                    "headers": [(b"content-type", b"text/javascript"), (b"content-length", str(len(SCRIPT)).encode())]})  # fmt: skip
        await send({"type": "http.response.body", "body": SCRIPT if found else b"no such file"})


def get(app, path: str, accept: bytes = b"gzip, deflate, br") -> tuple[int, dict, bytes]:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    async def receive():
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"accept-encoding", accept)]}
    asyncio.run(app(scope, receive, send))
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, b"".join(m.get("body", b"") for m in sent[1:])


def test_a_script_is_compressed_once_and_every_visitor_gets_the_file():
    files = Files()
    app = CompressedAssets(files)
    for _ in range(3):
        status, headers, body = get(app, "/assets/plot-1234.js")
        assert status == 200 and headers["content-encoding"] == "br" and int(headers["content-length"]) == len(body)
        assert brotli.decompress(body) == SCRIPT and len(body) < len(SCRIPT) / 10
    assert files.asked == 1  # the second and third visitors were served from memory


def test_other_requests_pass_through_untouched():
    files = Files()
    app = CompressedAssets(files)
    assert get(app, "/assets/plot-1234.js", accept=b"gzip")[2] == SCRIPT  # no brotli: Gradio's own handling
    assert get(app, "/gradio_api/queue/join")[0] == 404 and get(app, "/assets/missing.js")[0] == 404
    assert get(app, "/assets/missing.js")[0] == 404  # a miss is not stored
    assert files.asked == 4
