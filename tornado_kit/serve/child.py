"""The app process: import the app, switch on debug settings, serve on the socket the parent holds.

Broken code (syntax error, import error, an exception in the factory) never kills the server: the
process serves a fallback app that answers every request with a 500 page showing the traceback.
Imported only inside app processes (it imports tornado at module level).
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import os
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tornado.escape
import tornado.httputil
import tornado.web
from tornado.httpserver import HTTPServer

from tornado_kit import appload
from tornado_kit.console import style
from tornado_kit.serve.accept import DevHTTPServer
from tornado_kit.serve.livechild import LiveChannel, live_app, route_live_reload, timing_transform
from tornado_kit.serve.protocol import Health, Signal, encode
from tornado_kit.settings import allowed_hosts

PID_HEADER = "X-Tkit-Pid"
DRAIN_SECONDS = 2.5
Report = Callable[[Health, float], None]


class ConnectionTracker(tornado.httputil.HTTPServerConnectionDelegate):
    """Wraps the app to know, at stop time, which requests are in flight and which fresh connections
    have not sent theirs yet: both are served before the process exits, so no client sees a reset."""

    def __init__(self, app: tornado.httputil.HTTPServerConnectionDelegate) -> None:
        self.app = app
        self.fresh: dict[object, float] = {}  # accepted, no request yet -> when accepted
        self.seen: set[object] = set()
        self.busy: set[object] = set()  # request connections between headers and response end

    def start_request(
        self, server_conn: object, request_conn: tornado.httputil.HTTPConnection
    ) -> tornado.httputil.HTTPMessageDelegate:
        if server_conn not in self.seen:
            self.seen.add(server_conn)
            self.fresh[server_conn] = time.monotonic()
        inner = self.app.start_request(server_conn, request_conn)
        return TrackedRequest(inner, self, server_conn, request_conn)

    def on_close(self, server_conn: object) -> None:
        self.fresh.pop(server_conn, None)
        self.seen.discard(server_conn)
        self.app.on_close(server_conn)

    def finished(self, request_conn: object) -> None:
        """The response on `request_conn` is complete (or its connection is gone)."""
        self.busy.discard(request_conn)

    def idle(self, fresh_grace: float = 1.0) -> bool:
        """True when nothing is in flight and no recent connection still owes its first request."""
        now = time.monotonic()
        return not self.busy and all(now - since > fresh_grace for since in self.fresh.values())


class TrackedRequest(tornado.httputil.HTTPMessageDelegate):
    """Passes one request through to the app, telling the tracker when it starts and ends."""

    def __init__(
        self,
        inner: tornado.httputil.HTTPMessageDelegate,
        tracker: ConnectionTracker,
        server_conn: object,
        request_conn: object,
    ) -> None:
        self.inner, self.tracker = inner, tracker
        self.server_conn, self.request_conn = server_conn, request_conn

    def headers_received(self, start_line: Any, headers: tornado.httputil.HTTPHeaders) -> Any:
        self.tracker.fresh.pop(self.server_conn, None)
        self.tracker.busy.add(self.request_conn)
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.tracker.finished(self.request_conn)
        self.inner.on_connection_close()


@dataclass(frozen=True)
class AppTarget:
    """What to serve: an app spec and the folder it is imported from."""

    spec: str
    root: Path


def load_app(target: AppTarget) -> tuple[tornado.web.Application, str | None]:
    """Import and build the app; on any failure return the error-page app and the traceback."""
    try:
        return appload.load_app(target.spec, target.root), None
    except appload.AppLoadError as exc:  # a SystemExit in user code too: it must not end the dev server
        trace = user_traceback(exc.__cause__ or exc)
        return error_page_app(trace), trace


def user_traceback(exc: BaseException) -> str:
    """The traceback without tkit's and importlib's own frames, which only hide the user's code."""
    summary = traceback.TracebackException.from_exception(exc)
    hidden = (str(Path(__file__).resolve().parent.parent), str(Path(importlib.__file__).parent), "<frozen importlib")
    frames = [f for f in summary.stack if not f.filename.startswith(hidden)]
    summary.stack = traceback.StackSummary.from_list(frames)
    return "".join(summary.format())


ERROR_PAGE_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
}


class BrokenCodeHandler(tornado.web.RequestHandler):
    """Answers every request with a 500 page carrying the traceback (dev server only), but only to a
    loopback or allowed host name: a DNS-rebinding page must not read the source lines and secrets."""

    def initialize(self, trace: str) -> None:
        self.trace = trace

    def prepare(self) -> None:
        for name, value in ERROR_PAGE_HEADERS.items():
            self.set_header(name, value)
        if not host_is_local_or_allowed(self.request.host_name):
            self.set_status(400)
            self.finish("<!doctype html><title>Bad Request</title><p>This host name is not allowed.</p>")
            return
        self.set_status(500)
        self.finish(render_error_page(self.trace))


def host_is_local_or_allowed(host: str) -> bool:
    """Loopback names, IP literals (a rebinding page cannot send one), or a name in ALLOWED_HOSTS."""
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    allowed = allowed_hosts(Path.cwd())  # the environment over .env, as the app reads it (cwd: the app's folder)
    return any(name in ("*", host) or (name.startswith(".") and host.endswith(name)) for name in allowed)


def render_error_page(trace: str) -> str:
    """The 500 page: the traceback, HTML-escaped, and what to do next."""
    escaped = tornado.escape.xhtml_escape(trace)
    last = tornado.escape.xhtml_escape(trace.strip().splitlines()[-1] if trace.strip() else "error")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>App failed to load</title>"
        "<style>body{font:15px/1.4 system-ui,sans-serif;margin:2em}pre{background:#f6f6f6;padding:1em;"
        "overflow:auto}</style></head><body><h1>App failed to load</h1>"
        f"<p><strong>{last}</strong></p><p>tkit serve keeps listening: save a fix and reload this page.</p>"
        f"<pre>{escaped}</pre></body></html>"
    )


def error_page_app(trace: str) -> tornado.web.Application:
    """An app whose only route is the error page."""
    return tornado.web.Application([(r".*", BrokenCodeHandler, {"trace": trace})])


def prepare_dev_app(app: tornado.web.Application, tracker: ConnectionTracker) -> None:
    """Debug settings without autoreload (tkit is the reloader), request log, pid header, request count."""
    app.settings["serve_traceback"] = True
    app.settings["compiled_template_cache"] = False
    app.settings["static_hash_cache"] = False
    app.settings["autoreload"] = False
    app.settings["log_function"] = log_request
    app.add_transform(dev_transform(tracker, os.getpid()))


def dev_transform(tracker: ConnectionTracker, pid: int) -> type[tornado.web.OutputTransform]:
    """An output transform that names the serving process in a header and reports finished responses."""

    class DevTransform(tornado.web.OutputTransform):
        def __init__(self, request: tornado.httputil.HTTPServerRequest) -> None:
            self.connection = request.connection

        def _done(self) -> None:
            tracker.finished(self.connection)

        def transform_first_chunk(
            self, status_code: int, headers: tornado.httputil.HTTPHeaders, chunk: bytes, finishing: bool
        ) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
            headers[PID_HEADER] = str(pid)
            if finishing:
                self._done()
            return status_code, headers, chunk

        def transform_chunk(self, chunk: bytes, finishing: bool) -> bytes:
            if finishing:
                self._done()
            return chunk

    return DevTransform


def log_request(handler: tornado.web.RequestHandler) -> None:
    """One line per request: status, method, path, time."""
    status = handler.get_status()
    colour = "red" if status >= 500 else "yellow" if status >= 400 else "green"
    took = 1000.0 * handler.request.request_time()
    code = style(str(status), sys.stderr, fg=colour)
    print(f"  {code} {handler.request.method} {handler.request.uri} {took:.1f} ms", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class LiveOptions:
    """Live reload for this app process: the parent's socket, and this process's name for the tabs."""

    socket_path: str
    name: str


async def serve(
    sock: socket.socket, target: AppTarget, report: Report, stop_signals: tuple[int, ...], live: LiveOptions | None
) -> None:
    """Serve the app on `sock` until one of `stop_signals` arrives, then drain and return."""
    started = time.perf_counter()
    app, trace = load_app(target)
    if trace is not None:
        print(style("The app failed to load:", sys.stderr, fg="red", bold=True), file=sys.stderr)
        print(trace, file=sys.stderr, end="", flush=True)
    tracker = ConnectionTracker(app)
    prepare_dev_app(app, tracker)
    channel = await add_live_reload(app, tracker, live) if live else None
    server = DevHTTPServer(tracker, max_body_size=app.settings.get("max_body_size"))
    stop = asyncio.Event()
    for signum in stop_signals:  # before accepting anything: a stop must always drain
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    server.add_sockets([sock])
    took = 1000.0 * (time.perf_counter() - started)
    report(Health.BROKEN if trace else Health.OK, round(took, 1))
    await stop.wait()
    await shut_down(server, tracker, channel)


async def add_live_reload(app: tornado.web.Application, tracker: ConnectionTracker, live: LiveOptions) -> LiveChannel:
    """Inject the script into the app's HTML, route the live-reload paths, connect to the parent."""
    from tornado_kit.serve.inject import add_injector

    channel = LiveChannel(live.socket_path, live.name)
    await channel.connect()
    add_injector(app)
    app.add_transform(timing_transform(live.name))
    routes = live_app(channel)
    routes.add_transform(dev_transform(tracker, os.getpid()))
    tracker.app = route_live_reload(app, routes)
    return channel


async def shut_down(server: HTTPServer, tracker: ConnectionTracker, channel: LiveChannel | None = None) -> None:
    """Stop accepting, end the tabs' streams, let requests in flight finish (bounded), close idle connections."""
    server.stop()
    if channel is not None:
        channel.stop()  # after server.stop(): the tabs reconnect to the next app process, never to this one
    for _ in range(3):  # connections just accepted reach start_request (and the tracker) on the next turns
        await asyncio.sleep(0)
    deadline = time.monotonic() + DRAIN_SECONDS
    while not tracker.idle() and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    try:
        await asyncio.wait_for(server.close_all_connections(), timeout=1.0)
    except TimeoutError:
        pass


def run_forked_child(
    listen_fd: int,
    events_fd: int,
    generation: int,
    target: AppTarget,
    after_ready: Callable[[], None],
    live: LiveOptions | None = None,
) -> int:
    """Entry point of a forked app process; returns its exit status."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    sock = socket.socket(fileno=os.dup(listen_fd))
    pid = os.getpid()

    def report(health: Health, took_ms: float) -> None:
        os.write(events_fd, encode(Signal.READY, generation, pid, health, took_ms))
        asyncio.get_running_loop().call_later(0.05, after_ready)

    asyncio.run(serve(sock, target, report, (signal.SIGTERM,), live))
    return 0


def run_in_process(sock: socket.socket, target: AppTarget, on_ready: Report) -> None:
    """--no-reload: serve in this process until Ctrl-C or SIGTERM."""
    asyncio.run(serve(sock, target, on_ready, (signal.SIGINT, signal.SIGTERM), None))
