"""Keeps track of requests in flight, so a graceful stop can wait for them to finish."""

from __future__ import annotations

from collections.abc import Awaitable

import tornado.httputil


class InFlight:
    """The requests that were routed and have neither finished nor lost their connection."""

    def __init__(self) -> None:
        self._requests: set[tornado.httputil.HTTPServerRequest] = set()

    def __len__(self) -> int:
        return len(self._requests)

    def started(self, request: tornado.httputil.HTTPServerRequest) -> None:
        """Count a request from the moment its headers are routed."""
        self._requests.add(request)

    def ended(self, request: tornado.httputil.HTTPServerRequest) -> None:
        """Stop counting it: the response was sent, or the client went away (called at most once each)."""
        self._requests.discard(request)


class TrackedDelegate(tornado.httputil.HTTPMessageDelegate):
    """Wraps Tornado's per-request delegate to notice connections closed before the handler finished
    (e.g. a body over max_body_size), which never reach Application.log_request."""

    def __init__(
        self,
        delegate: tornado.httputil.HTTPMessageDelegate,
        request: tornado.httputil.HTTPServerRequest,
        in_flight: InFlight,
    ) -> None:
        self.delegate = delegate
        self.request = request
        self.in_flight = in_flight

    def headers_received(
        self,
        start_line: tornado.httputil.RequestStartLine | tornado.httputil.ResponseStartLine,
        headers: tornado.httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        return self.delegate.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.delegate.data_received(chunk)

    def finish(self) -> None:
        self.delegate.finish()

    def on_connection_close(self) -> None:
        self.in_flight.ended(self.request)
        self.delegate.on_connection_close()
