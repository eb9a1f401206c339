"""Login throttling per account and per client address; counters live in the database so every
worker process sees the same ones."""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass

from .accounts import FAILURE_WINDOW


@dataclass(frozen=True)
class Limits:
    """How many failed logins are allowed within FAILURE_WINDOW seconds."""

    per_account: int = 5
    per_address: int = 20


def throttle_keys(username: str, address: str) -> tuple[str, str]:
    """The two counters a login attempt is checked against."""
    return f"user:{username.lower()}", f"addr:{address}"


def retry_after(db: sqlite3.Connection, username: str, address: str, limits: Limits) -> int:
    """Seconds until another attempt is allowed; 0 if it is allowed now."""
    account_key, address_key = throttle_keys(username, address)
    waits = [
        _wait(db, account_key, limits.per_account),
        _wait(db, address_key, limits.per_address),
    ]
    return max(waits)


def record_failure(db: sqlite3.Connection, username: str, address: str) -> None:
    """Count one failed login against the account and the address."""
    now = time.time()
    rows = [(key, now) for key in throttle_keys(username, address)]
    db.executemany("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)", rows)


def clear_failures(db: sqlite3.Connection, username: str) -> None:
    """Forget an account's failures after a successful login (the address counter stays)."""
    db.execute("DELETE FROM login_failures WHERE key = ?", (throttle_keys(username, "")[0],))


def _wait(db: sqlite3.Connection, key: str, limit: int) -> int:
    since = time.time() - FAILURE_WINDOW
    rows = db.execute(
        "SELECT failed_at FROM login_failures WHERE key = ? AND failed_at > ? ORDER BY failed_at DESC LIMIT ?",
        (key, since, limit),
    ).fetchall()
    if len(rows) < limit:
        return 0
    oldest_counted = rows[-1]["failed_at"]
    return max(1, math.ceil(oldest_counted + FAILURE_WINDOW - time.time()))
