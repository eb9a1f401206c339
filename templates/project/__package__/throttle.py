"""Login throttling per account and client address, per account and per address, and sign-up throttling per
address; counters live in the database so every worker process sees the same ones."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select, text

from .accounts import FAILURE_WINDOW
from .db import begin_immediate
from .tables import login_failures

COUNTERS_LOCK = 7_240_413  # any fixed number: the PostgreSQL advisory lock that serializes counting


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


def retry_after(db: Connection, username: str, address: str, limits: Limits) -> int:
    """Seconds until another attempt is allowed; 0 if it is allowed now."""
    pair_key, account_key, address_key = throttle_keys(username, address)
    waits = [
        _wait(db, pair_key, limits.per_account_address),
        _wait(db, account_key, limits.per_account),
        _wait(db, address_key, limits.per_address),
    ]
    return max(waits)


def count_attempt(db: Connection, username: str, address: str, limits: Limits) -> int:
    """Seconds to wait, as retry_after(); when 0, the attempt is counted as a failure at once, in the same
    transaction, so concurrent guesses cannot all pass the check before any is counted."""
    lock_counters(db)  # no other check may run between ours and our count
    wait = retry_after(db, username, address, limits)
    if not wait:
        record_failure(db, username, address)
    return wait


def count_signup(db: Connection, address: str, limits: Limits) -> int:
    """Seconds until this address may sign up again; when 0, this sign-up is counted in the same transaction."""
    lock_counters(db)
    key = f"signup:{address}"
    wait = _wait(db, key, limits.signups_per_address)
    if not wait:
        db.execute(insert(login_failures).values(key=key, failed_at=time.time()))
    return wait


def lock_counters(db: Connection) -> None:
    """Serialize the transactions that check and count, until commit (SQLite: its write lock)."""
    if db.dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": COUNTERS_LOCK})
    else:
        begin_immediate(db)


def record_failure(db: Connection, username: str, address: str) -> None:
    """Count one failed login against the account from this address, the account, and the address."""
    now = time.time()
    rows = [{"key": key, "failed_at": now} for key in throttle_keys(username, address)]
    db.execute(insert(login_failures), rows)


def clear_failures(db: Connection, username: str, address: str) -> None:
    """After a successful login: forget this address's failures at the account, and take back this attempt's
    count from the account-wide and address counters (their other failures, maybe an attacker's, stay)."""
    pair_key, account_key, address_key = throttle_keys(username, address)
    db.execute(delete(login_failures).where(login_failures.c.key == pair_key))
    for key in (account_key, address_key):
        latest = select(func.max(login_failures.c.id)).where(login_failures.c.key == key).scalar_subquery()
        db.execute(delete(login_failures).where(login_failures.c.id == latest))


def _wait(db: Connection, key: str, limit: int) -> int:
    since = time.time() - FAILURE_WINDOW
    query = (
        select(login_failures.c.failed_at)
        .where(login_failures.c.key == key, login_failures.c.failed_at > since)
        .order_by(login_failures.c.failed_at.desc())
        .limit(limit)
    )
    times = list(db.execute(query).scalars())
    if len(times) < limit:
        return 0
    return max(1, math.ceil(times[-1] + FAILURE_WINDOW - time.time()))
