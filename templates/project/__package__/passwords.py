"""Password hashing with hashlib.scrypt on a small bounded pool (each hash costs ~0.3 s and ~128 MiB).

New hashes (sign-ups, password changes) may use all threads but one, and only a few may wait for them:
a flood of sign-ups gets 503s instead of a queue that delays every login behind it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import tornado.ioloop

from .settings import ScryptCost

MIN_LENGTH = 10
MAX_LENGTH = 256  # longer passwords are rejected, never silently truncated
PREFIX = "scrypt"
T = TypeVar("T")


class HasherBusy(Exception):
    """Too many new hashes are already waiting; the client should retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"password hashing is busy; retry after {retry_after} s")
        self.retry_after = retry_after


class PasswordHasher:
    """Hashes and verifies passwords off the event loop, in a self-describing format."""

    def __init__(self, cost: ScryptCost, max_workers: int = 2, max_waiting: int = 3) -> None:
        self.cost = cost
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="scrypt")
        self._hash_threads = max(1, max_workers - 1)  # one thread stays free to verify logins
        self._hash_slots = asyncio.Semaphore(self._hash_threads)
        self._max_pending = self._hash_threads + max_waiting
        self._pending = 0
        self._seconds_per_hash = 0.3
        # Verifying against this costs exactly as much as against a real hash (same parameters).
        random_parts = [_b64(secrets.token_bytes(16)), _b64(secrets.token_bytes(32))]
        self._dummy_hash = "$".join([PREFIX, str(cost.n), str(cost.r), str(cost.p), *random_parts])

    async def hash(self, password: str) -> str:
        """A new hash with a random salt, e.g. `scrypt$131072$8$1$<salt>$<digest>`; HasherBusy if too many wait."""
        with self.place():
            return await self.hash_in_place(password)

    @contextlib.contextmanager
    def place(self) -> Iterator[None]:
        """Reserve a place in the bounded queue at once (HasherBusy if none is free), released on leaving.

        Taken synchronously, before any await: requests arriving together cannot all see a free place."""
        wait = self.busy()
        if wait:
            raise HasherBusy(wait)
        self._pending += 1
        try:
            yield
        finally:
            self._pending -= 1

    async def hash_in_place(self, password: str) -> str:
        """As hash(), for a caller already holding a place()."""
        async with self._hash_slots:
            started = time.monotonic()
            hashed = await self._run(hash_password, password, self.cost)
            self._seconds_per_hash = time.monotonic() - started
            return hashed

    def busy(self) -> int:
        """Seconds to wait before hash() will take another password; 0 if it would now."""
        if self._pending < self._max_pending:
            return 0
        return max(1, math.ceil(self._pending * self._seconds_per_hash / self._hash_threads))

    async def verify(self, password: str, stored: str | None) -> bool:
        """Check `password`; with no stored hash, spend the same time on a dummy one and fail."""
        if stored is None:
            await self._run(verify_password, password, self._dummy_hash)
            return False
        return await self._run(verify_password, password, stored)

    def needs_rehash(self, stored: str) -> bool:
        """True when `stored` was made with other parameters than today's (raise the cost later)."""
        return not stored.startswith(f"{PREFIX}${self.cost.n}${self.cost.r}${self.cost.p}$")

    def close(self) -> None:
        """Stop the hashing threads."""
        self._executor.shutdown(wait=True)

    async def _run(self, function: Callable[..., T], *args: object) -> T:
        loop = tornado.ioloop.IOLoop.current()
        return await loop.run_in_executor(self._executor, function, *args)


def password_problem(password: str) -> str | None:
    """Why `password` is not acceptable, or None if it is."""
    if len(password) < MIN_LENGTH:
        return f"Passwords need at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Passwords may have at most {MAX_LENGTH} characters."
    return None


def hash_password(password: str, cost: ScryptCost) -> str:
    """Blocking: hash `password` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, cost.n, cost.r, cost.p)
    return "$".join([PREFIX, str(cost.n), str(cost.r), str(cost.p), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str) -> bool:
    """Blocking: recompute with the parameters stored in the hash and compare in constant time."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return prefix == PREFIX and hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + 1024 * 1024  # what scrypt needs, plus headroom
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
