"""Login throttling per account and client address, per account and per address, and sign-up throttling per
address; counters live in the database so every worker process sees the same ones."""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass

from .accounts import FAILURE_WINDOW


@dataclass(frozen=True)
class Limits:
    """How many failed logins (and sign-ups, each costing a slow hash) are allowed within FAILURE_WINDOW seconds.

    Guesses at one account from one address stop at `per_account_address`; the account-wide limit is much
    higher, so one attacker cannot lock the owner out from elsewhere (usernames are public in the chat).
    """

    per_account_address: int = 5
    per_account: int = 50
    per_address: int = 20
    signups_per_address: int = 10


def throttle_keys(username: str, address: str) -> tuple[str, str, str]:
    """The three counters a login attempt is checked against: account and address, account, address."""
    account = username.lower()  # any text the client sent; the address is an IP (no "|"), so keys cannot collide
    return f"pair:{address}|{account}", f"user:{account}", f"addr:{address}"


def retry_after(db: sqlite3.Connection, username: str, address: str, limits: Limits) -> int:
    """Seconds until another attempt is allowed; 0 if it is allowed now."""
    pair_key, account_key, address_key = throttle_keys(username, address)
    waits = [
        _wait(db, pair_key, limits.per_account_address),
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


def count_signup(db: sqlite3.Connection, address: str, limits: Limits) -> int:
    """Seconds until this address may sign up again; when 0, this sign-up is counted in the same transaction."""
    db.execute("BEGIN IMMEDIATE")
    key = f"signup:{address}"
    wait = _wait(db, key, limits.signups_per_address)
    if not wait:
        db.execute("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)", (key, time.time()))
    return wait


def record_failure(db: sqlite3.Connection, username: str, address: str) -> None:
    """Count one failed login against the account from this address, the account, and the address."""
    now = time.time()
    rows = [(key, now) for key in throttle_keys(username, address)]
    db.executemany("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)", rows)


def clear_failures(db: sqlite3.Connection, username: str, address: str) -> None:
    """After a successful login: forget this address's failures at the account, and take back this attempt's
    count from the account-wide and address counters (their other failures, maybe an attacker's, stay)."""
    pair_key, account_key, address_key = throttle_keys(username, address)
    db.execute("DELETE FROM login_failures WHERE key = ?", (pair_key,))
    latest = "DELETE FROM login_failures WHERE rowid = (SELECT MAX(rowid) FROM login_failures WHERE key = ?)"
    for key in (account_key, address_key):
        db.execute(latest, (key,))


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
