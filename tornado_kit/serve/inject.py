"""Add the live-reload `<script src>` tag to HTML responses, inside the app process, never on disk.

An OutputTransform placed first in the app's chain (before gzip), so it sees the body as the handler
wrote it. Tornado sets Content-Length and computes the ETag before transforms run: the length is fixed
here, the ETag stays the one of the handler's body (the tag is the same on every response, so a 304
still means "unchanged"). Streamed responses (`flush()`) get the tag before the first `</body>`, even
when it is split across chunks; a response whose length was promised before streaming is left alone.
"""

from __future__ import annotations

import tornado.httputil
import tornado.web

SCRIPT_PATH = "/_tkit/live-reload.js"
EVENTS_PATH = "/_tkit/live-reload"
TAG = f'<script src="{SCRIPT_PATH}" async></script>'.encode()  # async: never delays the page
CLOSING = b"</body"


def should_inject(status_code: int, headers: tornado.httputil.HTTPHeaders) -> bool:
    """HTML bodies only, never already-encoded ones or bodiless statuses."""
    if status_code in (204, 304) or 100 <= status_code < 200:
        return False
    content_type = headers.get("Content-Type", "").split(";")[0].strip().lower()
    return content_type == "text/html" and "Content-Encoding" not in headers


def insert_before_last(body: bytes) -> bytes:
    """The body with the tag before its last `</body` (unchanged when there is none)."""
    index = body.lower().rfind(CLOSING)
    return body if index < 0 else body[:index] + TAG + body[index:]


class LiveReloadInjector(tornado.web.OutputTransform):
    """Per request: inject into a whole body at once, or into a stream as it passes."""

    def __init__(self, request: tornado.httputil.HTTPServerRequest) -> None:
        self.streaming = False
        self.done = False
        self.carry = b""

    def transform_first_chunk(
        self, status_code: int, headers: tornado.httputil.HTTPHeaders, chunk: bytes, finishing: bool
    ) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
        if not should_inject(status_code, headers):
            return status_code, headers, chunk
        if finishing:
            body = insert_before_last(chunk)
            if "Content-Length" in headers:
                headers["Content-Length"] = str(len(body))
            return status_code, headers, body
        if "Content-Length" in headers:
            return status_code, headers, chunk  # a length promised before streaming cannot change
        self.streaming = True
        return status_code, headers, self._pass(chunk, finishing)

    def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
        return self._pass(chunk, finishing) if self.streaming else chunk

    def _pass(self, chunk: bytes, finishing: bool) -> bytes:
        """Stream through; hold back a tail that could be the start of `</body` split over two chunks."""
        data, self.carry = self.carry + chunk, b""
        if self.done:
            return data
        index = data.lower().find(CLOSING)
        if index >= 0:
            self.done = True
            return data[:index] + TAG + data[index:]
        if finishing:
            return data
        keep = len(CLOSING) - 1
        self.carry = data[-keep:]
        return data[:-keep]


def add_injector(app: tornado.web.Application) -> None:
    """Put the injector first in the app's transforms (before gzip)."""
    app.transforms.insert(0, LiveReloadInjector)
