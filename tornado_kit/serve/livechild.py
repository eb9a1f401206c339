"""Live reload inside an app process: the script, the tabs' event streams, and the line to the parent.

Each open tab holds a WebSocket to `/_tkit/live-reload` on the app's own origin, so the generated
Content-Security-Policy (`script-src 'self'`, `connect-src 'self'`) holds. The first message names
this app process (`SESSION.GENERATION`): when a tab's socket closes because its app process is
stopping, it reconnects, lands on the new process (the old one no longer accepts), sees a new name and
reloads, which is how a tab reloads only once the new code serves. Stylesheet and template changes need
no new process: the parent sends them down a Unix socket and they are passed on to every tab.
"""

from __future__ import annotations

import asyncio
import json
import os
from importlib import resources

import tornado.httputil
import tornado.routing
import tornado.web
import tornado.websocket

from tornado_kit.serve.inject import EVENTS_PATH, SCRIPT_PATH
from tornado_kit.serve.protocol import Signal, decode, encode

TIMING_HEADER = "Server-Timing"
RESTARTING = 1012  # WebSocket close code "service restart"


class LiveChannel:
    """The tabs connected to this app process and its connection to the parent."""

    def __init__(self, socket_path: str, name: str) -> None:
        self.socket_path = socket_path
        self.name = name
        self.streams: set[LiveSocketHandler] = set()
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

    def opened(self, stream: LiveSocketHandler) -> None:
        self.streams.add(stream)
        self._send(Signal.TABS, len(self.streams))

    def closed(self, stream: LiveSocketHandler) -> None:
        if stream in self.streams:
            self.streams.discard(stream)
            self._send(Signal.TABS, len(self.streams))

    def stop(self) -> None:
        """Close every tab's socket (they reconnect to the next app process) and refuse new ones."""
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


class LiveSocketHandler(tornado.websocket.WebSocketHandler):
    """One tab's connection. A WebSocket rather than Server-Sent Events: browsers allow only six HTTP/1.1
    connections per host, so six tabs holding event streams would leave none for the pages themselves."""

    def initialize(self, channel: LiveChannel) -> None:
        self.channel = channel

    def open(self) -> None:
        if self.channel.stopping:
            self.close(RESTARTING, "the app process is restarting")  # come back to the next one
            return
        self.channel.opened(self)
        self.send("hello", self.channel.name)

    def send(self, event: str, data: str) -> None:
        """One message to the tab; a tab that went away is dropped by on_close."""
        try:
            self.write_message(json.dumps({"event": event, "data": data})).add_done_callback(_ignore_closed)
        except tornado.websocket.WebSocketClosedError:
            pass

    def end(self) -> None:
        """Close: the tab reconnects, to the next app process."""
        self.close(RESTARTING, "the app process is restarting")

    def on_message(self, message: str | bytes) -> None:
        """Tabs only listen."""

    def on_close(self) -> None:
        self.channel.closed(self)


def _ignore_closed(future: asyncio.Future[None]) -> None:
    """A tab that closed mid-write: nothing to report (on_connection_close drops it)."""
    if not future.cancelled():
        future.exception()


def live_app(channel: LiveChannel) -> tornado.web.Application:
    """The two live-reload routes, as their own little app (the user's routes never see them)."""
    return tornado.web.Application(
        [(SCRIPT_PATH, ScriptHandler), (EVENTS_PATH, LiveSocketHandler, {"channel": channel})],
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
