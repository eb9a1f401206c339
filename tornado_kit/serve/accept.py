"""Accepting connections in an app process without spinning when file descriptors run out.

Tornado's accept handler lets an EMFILE escape: the listening socket stays readable, so the event
loop calls it again at once, forever, at 100% CPU and one traceback per turn. Here the app process
stops watching the socket for a moment instead (the connections wait in the backlog), says so once,
and says so again when it accepts once more.
"""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable

from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop

PAUSE = 0.5
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
ACCEPTS_PER_TURN = 128


class Acceptor:
    """Accepts on one listening socket; pauses on EMFILE and friends, logging once per episode."""

    def __init__(self, sock: socket.socket, callback: Callable[[socket.socket, object], None]) -> None:
        self.sock, self.callback = sock, callback
        self.loop = IOLoop.current()
        self.removed = self.paused = self.short = False  # short: out of descriptors since the last log
        self.retry: object | None = None
        self.loop.add_handler(sock, self._on_readable, IOLoop.READ)

    def _on_readable(self, fd: object, events: int) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            if self.removed or self.paused:
                return
            try:
                connection, address = self.sock.accept()
            except BlockingIOError:
                self._caught_up()
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in OUT_OF_RESOURCES:
                    raise
                self._pause(exc)
                return
            self.callback(connection, address)

    def _pause(self, exc: OSError) -> None:
        self.paused = True
        self.loop.remove_handler(self.sock)
        if not self.short:
            self.short = True
            print(f"tkit: cannot accept connections ({exc.strerror}); retrying every {PAUSE:g} s", file=sys.stderr)
        self.retry = self.loop.call_later(PAUSE, self._resume)

    def _resume(self) -> None:
        self.retry = None
        self.paused = False
        if not self.removed:
            self.loop.add_handler(self.sock, self._on_readable, IOLoop.READ)

    def _caught_up(self) -> None:
        if self.short:
            self.short = False
            print("tkit: accepting connections again", file=sys.stderr)

    def remove(self) -> None:
        """Stop accepting for good."""
        if self.removed:
            return
        self.removed = True
        if self.retry is not None:
            self.loop.remove_timeout(self.retry)
        if not self.paused:
            self.loop.remove_handler(self.sock)


class DevHTTPServer(HTTPServer):
    """Tornado's HTTPServer with the pausing acceptor."""

    def add_sockets(self, sockets: list[socket.socket]) -> None:  # type: ignore[override]
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = Acceptor(sock, self._handle_connection).remove
