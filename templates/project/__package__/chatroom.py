"""Who is in this worker's chat room: a cap on sockets per session and per user, and one message budget
per user shared by all of that user's sockets (a budget per socket grows with every tab or script opened).

The limits hold per worker process: behind N workers a user may hold up to N times as many sockets.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

MAX_SOCKETS_PER_SESSION = 5  # tabs of one browser
MAX_SOCKETS_PER_USER = 10  # all of one account's sessions (or, without accounts, one client address)
RATE_BURST = 20  # messages a user may send at once ...
RATE_PER_SECOND = 5.0  # ... and the sustained rate after that


class RateLimiter:
    """Token bucket: `burst` at once, then `per_second`."""

    def __init__(self, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def allow(self) -> bool:
        """Take one token if there is one."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class ChatRoom:
    """The open sockets of this process by user and by session, and each user's message budget."""

    def __init__(
        self,
        per_session: int = MAX_SOCKETS_PER_SESSION,
        per_user: int = MAX_SOCKETS_PER_USER,
        burst: int = RATE_BURST,
        per_second: float = RATE_PER_SECOND,
    ) -> None:
        self.per_session = per_session
        self.per_user = per_user
        self.burst = burst
        self.per_second = per_second
        self._by_user: dict[Hashable, set[Any]] = {}
        self._by_session: dict[Hashable, set[Any]] = {}
        self._budgets: dict[Hashable, RateLimiter] = {}
        # Users with no socket left whose budget may still be short: kept until it has refilled, so closing
        # and reopening a socket does not reset it.
        self._idle: OrderedDict[Hashable, float] = OrderedDict()

    def join(self, socket: Any, user: Hashable, session: Hashable | None) -> str | None:
        """Add `socket`; or, when a cap is reached, the reason it is refused (and nothing changes)."""
        if session is not None and len(self._by_session.get(session, ())) >= self.per_session:
            return "too many chat connections in this session"
        if len(self._by_user.get(user, ())) >= self.per_user:
            return "too many chat connections for this account"
        self._by_user.setdefault(user, set()).add(socket)
        if session is not None:
            self._by_session.setdefault(session, set()).add(socket)
        self._idle.pop(user, None)
        self._budgets.setdefault(user, RateLimiter(self.burst, self.per_second))
        return None

    def leave(self, socket: Any, user: Hashable, session: Hashable | None) -> None:
        """Remove `socket` (joined before); forget budgets that have refilled since their user left."""
        for index, key in ((self._by_user, user), (self._by_session, session)):
            group = index.get(key)
            if group is not None:
                group.discard(socket)
                if not group:
                    del index[key]
        if user not in self._by_user:
            self._idle[user] = time.monotonic()
        self._forget_refilled()

    def allow_message(self, user: Hashable) -> bool:
        """Take one message from `user`'s budget (shared by all their sockets)."""
        return self._budgets[user].allow()

    def _forget_refilled(self) -> None:
        refill_seconds = self.burst / self.per_second
        now = time.monotonic()
        while self._idle:
            user, since = next(iter(self._idle.items()))
            if now - since < refill_seconds:
                return
            del self._idle[user]
            self._budgets.pop(user, None)
