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


def count_attempt(db: sqlite3.Connection, username: str, address: str, limits: Limits) -> int:
    """Seconds to wait, as retry_after(); when 0, the attempt is counted as a failure at once, in the same
    transaction, so concurrent guesses cannot all pass the check before any is counted."""
    db.execute("BEGIN IMMEDIATE")  # no other check may run between ours and our count
    wait = retry_after(db, username, address, limits)
    if not wait:
        record_failure(db, username, address)
    return wait


def record_failure(db: sqlite3.Connection, username: str, address: str) -> None:
    """Count one failed login against the account and the address."""
    now = time.time()
    rows = [(key, now) for key in throttle_keys(username, address)]
    db.executemany("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)", rows)


def clear_failures(db: sqlite3.Connection, username: str, address: str) -> None:
    """After a successful login: forget the account's failures, and take back the address's count of this
    attempt (its other failures stay)."""
    account_key, address_key = throttle_keys(username, address)
    db.execute("DELETE FROM login_failures WHERE key = ?", (account_key,))
    db.execute(
        "DELETE FROM login_failures WHERE rowid = (SELECT MAX(rowid) FROM login_failures WHERE key = ?)", (address_key,)
    )


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
