"""Fan-out across worker processes and hosts through Redis pub/sub (redis-py's asyncio client).

Used when REDIS_URL is set. Every worker subscribes to `<namespace>:*` on one connection and publishes
on another; a lost connection is retried with capped, jittered backoff and the subscription renewed,
and status listeners hear about the loss and the recovery so the chat can tell its users.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

from .broadcast import BroadcastConfigError, Broadcaster, Message

try:
    import redis.asyncio as aioredis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import RedisError
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise BroadcastConfigError(
        "REDIS_URL is set but the 'redis' package is not installed: pip install 'redis>=5' "
        "(or unset REDIS_URL for single-process chat)"
    ) from exc

log = logging.getLogger(__name__)

FIRST_RETRY_DELAY = 0.2  # seconds
MAX_RETRY_DELAY = 5.0
POLL_TIMEOUT = 1.0  # how long one read waits, so close() is noticed promptly


class RedisBroadcaster(Broadcaster):
    """Redis pub/sub fan-out; `publish` delivers to local subscribers only through Redis (exactly once)."""

    def __init__(self, url: str, namespace: str = __name__.partition(".")[0]) -> None:
        super().__init__()
        self._url = url
        self._prefix = namespace + ":"
        self._connected = False
        self._closing = False
        self._task: asyncio.Task[None] | None = None
        self._publisher: Any = None

    @property
    def connected(self) -> bool:
        return self._connected

    async def start(self) -> None:
        """Connect in the background; returns at once, even while Redis is down."""
        self._publisher = self._client()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        self._announce_shutdown()
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._publisher is not None:
            await self._publisher.aclose()
        self._set_connected(False, notify=False)

    async def publish(self, channel: str, message: Message) -> bool:
        if not self._connected or self._publisher is None:
            return False
        try:
            await self._publisher.publish(self._prefix + channel, json.dumps(message))
        except (RedisError, OSError) as exc:
            log.warning("redis publish failed: %s", exc)
            return False
        return True

    def _client(self) -> Any:
        # One immediate retry (a pooled connection may predate a Redis restart); our loop does the backoff.
        return aioredis.Redis.from_url(
            self._url,
            retry=Retry(NoBackoff(), 1),
            socket_connect_timeout=3,
            socket_timeout=5,
            health_check_interval=10,
        )

    async def _run(self) -> None:
        """Subscribe and read; after a connection error wait (capped, jittered backoff) and start again."""
        attempt = 0
        while not self._closing:
            try:
                await self._subscribe_and_read()
            except (RedisError, OSError) as exc:
                attempt = 0 if self._connected else min(attempt + 1, 10)
                (log.warning if self._connected else log.debug)("redis unavailable (%s); retrying", exc)
                self._set_connected(False)
            delay = min(MAX_RETRY_DELAY, FIRST_RETRY_DELAY * 2**attempt)
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))

    async def _subscribe_and_read(self) -> None:
        """Read messages until the connection fails (raises) or the broadcaster closes."""
        client = self._client()
        pubsub = client.pubsub()
        try:
            await pubsub.psubscribe(self._prefix + "*")
            await self._await_confirmation(pubsub)
            self._set_connected(True)
            while not self._closing:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_TIMEOUT)
                if message is not None:
                    self._dispatch(message)
        finally:
            await pubsub.aclose()
            await client.aclose()

    async def _await_confirmation(self, pubsub: Any) -> None:
        """Wait for Redis to confirm the subscription, so nothing published after `connected` is missed."""
        for _ in range(10):
            message = await pubsub.get_message(timeout=POLL_TIMEOUT)
            if message is not None and message["type"] == "psubscribe":
                return
        raise RedisError("redis did not confirm the subscription")

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"].decode()
        try:
            payload = json.loads(message["data"])
        except ValueError:
            log.warning("ignored a malformed message on %s", channel)
            return
        if isinstance(payload, dict):
            self._deliver(channel.removeprefix(self._prefix), payload)

    def _set_connected(self, connected: bool, notify: bool = True) -> None:
        if connected == self._connected:
            return
        self._connected = connected
        log.info("redis fan-out %s", "connected" if connected else "unavailable")
        if notify:
            self._notify_status(connected)
