"""An HTTPServer that survives running out of file descriptors.

Tornado's accept loop lets EMFILE ("Too many open files") escape: the listening socket stays readable, so
the loop calls it again at once and logs a traceback each time (100% CPU, megabytes of log a second, no
request answered). Here accepting pauses for a moment instead, and that is logged once until it recovers.
"""

from __future__ import annotations

import errno
import logging
import socket
import time
from collections.abc import Callable, Iterable
from typing import Any

import tornado.httpserver
from tornado.ioloop import IOLoop

log = logging.getLogger(__name__)

ACCEPT_PAUSE_SECONDS = 0.5
ACCEPTS_PER_EVENT = 128  # like Tornado: bounded, so one busy socket does not starve the loop
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
# Descriptors come back one by one as closed connections are noticed, so accepting may flap between working
# and short for a while: a shortage within this long of the last one is the same shortage, not logged again.
QUIET_SECONDS = 60.0


class HTTPServer(tornado.httpserver.HTTPServer):
    """`tornado.httpserver.HTTPServer` whose listening sockets pause accepting when descriptors run out."""

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        """Like TCPServer.add_sockets (which fills the same two tables), with a pausing accept handler."""
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = PausingAcceptor(sock, self._handle_connection).remove


class PausingAcceptor:
    """Accepts connections on one listening socket; stops for a moment when the process is out of descriptors."""

    def __init__(self, sock: socket.socket, callback: Callable[[socket.socket, Any], None]) -> None:
        self.sock = sock
        self.callback = callback
        self.loop = IOLoop.current()
        self.removed = False
        self.paused: object | None = None  # the timeout handle while paused
        self.last_shortage = -QUIET_SECONDS
        self.announced = False  # the shortage was logged and its end not yet
        self.loop.add_handler(sock, self.on_readable, IOLoop.READ)

    def on_readable(self, fd: Any, events: int) -> None:
        """Accept what is waiting, up to a bound."""
        for _ in range(ACCEPTS_PER_EVENT):
            if self.removed or self.paused is not None:
                return
            try:
                connection, address = self.sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                if exc.errno not in OUT_OF_DESCRIPTORS:
                    raise
                self.pause(exc)
                return
            if self.announced:
                self.announced = False
                log.warning("accepting connections again")
            self.callback(connection, address)

    def pause(self, exc: OSError) -> None:
        """Stop watching the socket for a moment; say so once per shortage."""
        now = time.monotonic()
        if now - self.last_shortage > QUIET_SECONDS:
            self.announced = True
            log.error(
                "cannot accept connections: %s; pausing new connections until descriptors are free "
                "(raise `ulimit -n`, or look for connections left open)",
                exc.strerror,
            )
        self.last_shortage = now
        self.loop.remove_handler(self.sock)
        self.paused = self.loop.call_later(ACCEPT_PAUSE_SECONDS, self.resume)

    def resume(self) -> None:
        """Watch the socket again (connections waited in the listen backlog meanwhile)."""
        self.paused = None
        if not self.removed:
            self.loop.add_handler(self.sock, self.on_readable, IOLoop.READ)

    def remove(self) -> None:
        """Stop accepting for good (TCPServer.stop calls this before closing the socket)."""
        self.removed = True
        if self.paused is not None:
            self.loop.remove_timeout(self.paused)
            self.paused = None
        else:
            self.loop.remove_handler(self.sock)
