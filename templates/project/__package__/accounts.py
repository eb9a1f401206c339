"""Users, server-side sessions and login throttling: plain functions over an sqlite3 connection."""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{2,31}")
FAILURE_WINDOW = 15 * 60.0  # seconds a failed login counts against its account and address


@dataclass(frozen=True)
class User:
    """A signed-up user."""

    id: int
    username: str


@dataclass(frozen=True)
class Session:
    """A server-side session; the cookie holds only the random id, the table only its hash."""

    id_hash: str
    user_id: int
    expires_at: datetime


def hash_session_id(session_id: str) -> str:
    """The sha256 hex digest stored in the table (and sent in "session-ended" events)."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def valid_username(username: str) -> bool:
    """3 to 32 letters, digits, `_`, `.` or `-`, starting with a letter or digit."""
    return USERNAME_PATTERN.fullmatch(username) is not None


def create_user(db: sqlite3.Connection, username: str, password_hash: str) -> User | None:
    """Insert a user; None if the name is taken (case-insensitively)."""
    try:
        cursor = db.execute(
            "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)",
            (username, password_hash, time.time()),
        )
    except sqlite3.IntegrityError:
        return None
    return User(id=int(cursor.lastrowid or 0), username=username)


def find_user(db: sqlite3.Connection, username: str) -> tuple[User, str] | None:
    """The user and their password hash, by case-insensitive name."""
    row = db.execute("SELECT id, username, password_hash FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else (User(row["id"], row["username"]), row["password_hash"])


def replace_password_hash(db: sqlite3.Connection, user_id: int, verified_hash: str, new_hash: str) -> bool:
    """Store a cost-upgraded hash, unless the password changed since `verified_hash` was checked."""
    cursor = db.execute(
        "UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?", (new_hash, user_id, verified_hash)
    )
    return cursor.rowcount == 1


def change_password(db: sqlite3.Connection, user_id: int, new_hash: str) -> None:
    """Store the new hash and revoke every session of the user, in one transaction."""
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", (new_hash, user_id))
    db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))


def create_session(db: sqlite3.Connection, user_id: int, days: int, verified_hash: str) -> tuple[str, Session] | None:
    """A brand-new random session id (for the cookie) and its stored row; None if `verified_hash`, the password
    hash the login checked, is no longer the user's (a password change ended every session while it checked)."""
    db.execute("BEGIN IMMEDIATE")  # a write lock before the check, so no change lands between check and insert
    current = db.execute("SELECT 1 FROM users WHERE id = ? AND password_hash = ?", (user_id, verified_hash))
    if current.fetchone() is None:
        return None
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    expires = now + days * 86400
    id_hash = hash_session_id(session_id)
    db.execute(
        "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (id_hash, user_id, now, expires),
    )
    return session_id, Session(id_hash, user_id, datetime.fromtimestamp(expires, UTC))


def find_session(db: sqlite3.Connection, session_id: str) -> tuple[Session, User] | None:
    """The live session with this id and its user; expired or revoked sessions are None."""
    row = db.execute(
        "SELECT s.id_hash, s.expires_at, u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id"
        " WHERE s.id_hash = ? AND s.expires_at > ?",
        (hash_session_id(session_id), time.time()),
    ).fetchone()
    if row is None:
        return None
    session = Session(row["id_hash"], row["id"], datetime.fromtimestamp(row["expires_at"], UTC))
    return session, User(row["id"], row["username"])


def delete_session(db: sqlite3.Connection, id_hash: str) -> None:
    """Revoke one session (logout)."""
    db.execute("DELETE FROM sessions WHERE id_hash = ?", (id_hash,))


def prune_expired(db: sqlite3.Connection) -> list[str]:
    """Delete expired sessions and stale login failures; return the hashes of the sessions removed."""
    now = time.time()
    rows = db.execute("SELECT id_hash FROM sessions WHERE expires_at <= ?", (now,)).fetchall()
    db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
    db.execute("DELETE FROM login_failures WHERE failed_at <= ?", (now - FAILURE_WINDOW,))
    return [row["id_hash"] for row in rows]


def count_sessions(db: sqlite3.Connection, user_id: int) -> int:
    """How many live sessions a user has (shown on the home page)."""
    row = db.execute("SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?", (user_id, time.time()))
    return int(row.fetchone()[0])
