"""Live reload inside an app process: the script, the tabs' event streams, and the line to the parent.

Each open tab holds a Server-Sent Events stream to `/_tkit/live-reload` on the app's own origin, so the
generated Content-Security-Policy (`script-src 'self'`, `connect-src 'self'`) holds. The first event
names this app process (`SESSION.GENERATION`): when a tab's stream ends because its app process is
stopping, it reconnects, lands on the new process (the old one no longer accepts), sees a new name and
reloads, which is how a tab reloads only once the new code serves. Stylesheet and template changes need
no new process: the parent sends them down a Unix socket and they are passed on to every stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from importlib import resources

import tornado.httputil
import tornado.iostream
import tornado.routing
import tornado.web

from tornado_kit.serve.inject import EVENTS_PATH, SCRIPT_PATH
from tornado_kit.serve.protocol import Signal, decode, encode

TIMING_HEADER = "Server-Timing"


class LiveChannel:
    """The event streams of this app process and its connection to the parent."""

    def __init__(self, socket_path: str, name: str) -> None:
        self.socket_path = socket_path
        self.name = name
        self.streams: set[EventStreamHandler] = set()
        self.stopping = False
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        """Open the line to the parent (before this process reports ready, so no message is missed)."""
        try:
            reader, self.writer = await asyncio.open_unix_connection(self.socket_path)
        except OSError:
            return  # the parent is gone or refuses: this process still serves, without live reload
        self._send(Signal.HELLO, os.getpid())
        self.reader_task = asyncio.get_running_loop().create_task(self._listen(reader))

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        while line := await reader.readline():
            message = decode(line)
            if message is not None and message.signal in (Signal.CSS, Signal.RELOAD):
                self.broadcast(message.signal.value, message.fields[0])

    def _send(self, signal: Signal, *fields: object) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(encode(signal, *fields))

    def broadcast(self, event: str, data: str) -> None:
        """One event to every open tab."""
        for stream in list(self.streams):
            stream.send(event, data)

    def opened(self, stream: EventStreamHandler) -> None:
        self.streams.add(stream)
        self._send(Signal.TABS, len(self.streams))

    def closed(self, stream: EventStreamHandler) -> None:
        if stream in self.streams:
            self.streams.discard(stream)
            self._send(Signal.TABS, len(self.streams))

    def stop(self) -> None:
        """End every stream (their tabs reconnect to the next app process) and refuse new ones."""
        self.stopping = True
        for stream in list(self.streams):
            stream.end()
        if self.reader_task is not None:
            self.reader_task.cancel()
        if self.writer is not None:
            self.writer.close()


class ScriptHandler(tornado.web.RequestHandler):
    """The browser side, served from the app's own origin (CSP `script-src 'self'`)."""

    def get(self) -> None:
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(resources.files("tornado_kit.serve").joinpath("live-reload.js").read_bytes())


class EventStreamHandler(tornado.web.RequestHandler):
    """One tab's Server-Sent Events stream; ends when the app process stops."""

    def initialize(self, channel: LiveChannel) -> None:
        self.channel = channel
        self.ended = asyncio.Event()

    async def get(self) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        if self.channel.stopping:
            self.finish("retry: 50\n\n")  # this process is on its way out: come back to the next one
            return
        self.write(f"retry: 200\nevent: hello\ndata: {self.channel.name}\n\n")
        self.channel.opened(self)
        with contextlib.suppress(tornado.iostream.StreamClosedError):
            await self.flush()
        await self.ended.wait()
        self.channel.closed(self)

    def send(self, event: str, data: str) -> None:
        """Write one event; a tab that went away is dropped by on_connection_close."""
        if not self.ended.is_set():
            self.write(f"event: {event}\ndata: {data}\n\n")
            self.flush().add_done_callback(_ignore_closed)

    def end(self) -> None:
        self.ended.set()

    def on_connection_close(self) -> None:
        self.ended.set()
        self.channel.closed(self)

    def compute_etag(self) -> None:
        return None


def _ignore_closed(future: asyncio.Future[None]) -> None:
    """A tab that closed mid-write: nothing to report (on_connection_close drops it)."""
    if not future.cancelled():
        future.exception()


def live_app(channel: LiveChannel) -> tornado.web.Application:
    """The two live-reload routes, as their own little app (the user's routes never see them)."""
    return tornado.web.Application(
        [(SCRIPT_PATH, ScriptHandler), (EVENTS_PATH, EventStreamHandler, {"channel": channel})],
        log_function=lambda handler: None,
    )


def route_live_reload(
    app: tornado.httputil.HTTPServerConnectionDelegate, routes: tornado.web.Application
) -> tornado.routing.RuleRouter:
    """A router sending the live-reload paths to `routes` and everything else to the user's app."""
    paths = tornado.routing.PathMatches(f"(?:{SCRIPT_PATH}|{EVENTS_PATH})")
    return tornado.routing.RuleRouter(
        [tornado.routing.Rule(paths, routes), tornado.routing.Rule(tornado.routing.AnyMatches(), app)]
    )


def timing_transform(name: str) -> type[tornado.web.OutputTransform]:
    """Name the app process in a Server-Timing header, so a page knows which code produced it."""
    value = f'tkit-live;desc="{name}"'

    class TimingTransform(tornado.web.OutputTransform):
        def transform_first_chunk(
            self, status_code: int, headers: tornado.httputil.HTTPHeaders, chunk: bytes, finishing: bool
        ) -> tuple[int, tornado.httputil.HTTPHeaders, bytes]:
            headers.add(TIMING_HEADER, value)
            return status_code, headers, chunk

    return TimingTransform
