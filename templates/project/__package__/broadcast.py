"""Fan-out of chat messages and session events to every subscriber, in this process or across workers."""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable
from typing import Any

Message = dict[str, Any]  # JSON-serialisable
MessageCallback = Callable[[Message], None]
StatusCallback = Callable[[bool], None]

log = logging.getLogger(__name__)

SHUTDOWN_CHANNEL = "shutdown"  # local only: close() announces itself here before it disconnects


class BroadcastConfigError(RuntimeError):
    """The configured broadcast backend cannot be used (e.g. REDIS_URL set, redis not installed)."""


class Broadcaster(abc.ABC):
    """Publish/subscribe by channel name; callbacks run on the event loop."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[MessageCallback]] = {}
        self._status_listeners: list[StatusCallback] = []

    @abc.abstractmethod
    async def start(self) -> None:
        """Begin delivering messages; returns promptly."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Announce the shutdown to local subscribers, stop delivering and release connections."""

    @abc.abstractmethod
    async def publish(self, channel: str, message: Message) -> bool:
        """Send `message` to every subscriber of `channel`; False if the backend is unreachable."""

    @property
    @abc.abstractmethod
    def connected(self) -> bool:
        """Whether published messages can currently be delivered."""

    def subscribe(self, channel: str, callback: MessageCallback) -> None:
        """Call `callback(message)` for every message published on `channel`."""
        self._subscribers.setdefault(channel, []).append(callback)

    def unsubscribe(self, channel: str, callback: MessageCallback) -> None:
        """Stop calling `callback` for `channel` (no error if it was not subscribed)."""
        callbacks = self._subscribers.get(channel, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def add_status_listener(self, callback: StatusCallback) -> None:
        """Call `callback(False)` when delivery is lost and `callback(True)` when it is restored."""
        self._status_listeners.append(callback)

    def remove_status_listener(self, callback: StatusCallback) -> None:
        """Stop telling `callback` about status changes."""
        if callback in self._status_listeners:
            self._status_listeners.remove(callback)

    def _announce_shutdown(self) -> None:
        """Tell this process's subscribers (only) that the server is going away, e.g. so sockets close 1001."""
        self._deliver(SHUTDOWN_CHANNEL, {"type": "server-shutdown"})

    def _deliver(self, channel: str, message: Message) -> None:
        """Hand `message` to this process's subscribers; one failing callback does not stop the others."""
        for callback in list(self._subscribers.get(channel, ())):
            try:
                callback(message)
            except Exception:
                log.exception("subscriber of %r failed", channel)

    def _notify_status(self, connected: bool) -> None:
        for callback in list(self._status_listeners):
            try:
                callback(connected)
            except Exception:
                log.exception("status listener failed")


class InProcessBroadcaster(Broadcaster):
    """Fan-out inside one process: the default, for the dev server and single-worker deployments."""

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        self._announce_shutdown()

    async def publish(self, channel: str, message: Message) -> bool:
        self._deliver(channel, message)
        return True

    @property
    def connected(self) -> bool:
        return True


def make_broadcaster(redis_url: str | None) -> Broadcaster:
    """In-process fan-out when `redis_url` is empty; Redis pub/sub across workers otherwise."""
    if not redis_url:
        return InProcessBroadcaster()
    from .broadcast_redis import RedisBroadcaster  # needs the optional `redis` package

    return RedisBroadcaster(redis_url)
