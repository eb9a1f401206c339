"""Users, server-side sessions and login throttling: plain query functions over a Connection."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import begin_immediate
from .tables import login_failures, sessions, users

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


def create_user(db: Connection, username: str, password_hash: str) -> User | None:
    """Insert a user; None if the name is taken (case-insensitively)."""
    statement = insert(users).values(username=username, password_hash=password_hash, created_at=time.time())
    try:
        with db.begin_nested():  # a savepoint: the taken name must not abort the caller's transaction
            user_id = db.execute(statement.returning(users.c.id)).scalar_one()
    except IntegrityError:
        return None
    return User(id=user_id, username=username)


def find_user(db: Connection, username: str) -> tuple[User, str] | None:
    """The user and their password hash, by case-insensitive name."""
    query = select(users.c.id, users.c.username, users.c.password_hash).where(
        func.lower(users.c.username) == username.lower()
    )
    row = db.execute(query).first()
    return None if row is None else (User(row.id, row.username), row.password_hash)


def replace_password_hash(db: Connection, user_id: int, verified_hash: str, new_hash: str) -> bool:
    """Store a cost-upgraded hash, unless the password changed since `verified_hash` was checked."""
    statement = (
        update(users)
        .where(users.c.id == user_id, users.c.password_hash == verified_hash)
        .values(password_hash=new_hash)
        .returning(users.c.id)
    )
    return db.execute(statement).first() is not None


def change_password(db: Connection, user_id: int, new_hash: str) -> None:
    """Store the new hash and revoke every session of the user, in one transaction."""
    db.execute(update(users).where(users.c.id == user_id).values(password_hash=new_hash))
    db.execute(delete(sessions).where(sessions.c.user_id == user_id))


def create_session(db: Connection, user_id: int, days: int, verified_hash: str) -> tuple[str, Session] | None:
    """A brand-new random session id (for the cookie) and its stored row; None if `verified_hash`, the password
    hash the login checked, is no longer the user's (a password change ended every session while it checked)."""
    begin_immediate(db)  # SQLite: a write lock before the check, so no change lands between check and insert
    current = select(users.c.id).where(users.c.id == user_id, users.c.password_hash == verified_hash)
    if db.execute(current.with_for_update()).first() is None:  # PostgreSQL: the row stays locked
        return None
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    expires = now + days * 86400
    id_hash = hash_session_id(session_id)
    db.execute(insert(sessions).values(id_hash=id_hash, user_id=user_id, created_at=now, expires_at=expires))
    return session_id, Session(id_hash, user_id, datetime.fromtimestamp(expires, UTC))


# Built once: every signed-in request runs it, and only binds its values.
FIND_SESSION = (
    select(sessions.c.id_hash, sessions.c.expires_at, users.c.id, users.c.username)
    .join(users, users.c.id == sessions.c.user_id)
    .where(sessions.c.id_hash == bindparam("id_hash"), sessions.c.expires_at > bindparam("now"))
)


def find_session(db: Connection, session_id: str) -> tuple[Session, User] | None:
    """The live session with this id and its user; expired or revoked sessions are None."""
    found = db.execute(FIND_SESSION, {"id_hash": hash_session_id(session_id), "now": time.time()})
    row = found.first()
    if row is None:
        return None
    session = Session(row.id_hash, row.id, datetime.fromtimestamp(row.expires_at, UTC))
    return session, User(row.id, row.username)


def delete_session(db: Connection, id_hash: str) -> None:
    """Revoke one session (logout)."""
    db.execute(delete(sessions).where(sessions.c.id_hash == id_hash))


def prune_expired(db: Connection) -> list[str]:
    """Delete expired sessions and stale login failures; return the hashes of the sessions removed."""
    now = time.time()
    ended = db.execute(delete(sessions).where(sessions.c.expires_at <= now).returning(sessions.c.id_hash))
    removed = list(ended.scalars())
    db.execute(delete(login_failures).where(login_failures.c.failed_at <= now - FAILURE_WINDOW))
    return removed


def count_sessions(db: Connection, user_id: int) -> int:
    """How many live sessions a user has (shown on the home page)."""
    query = select(func.count()).where(sessions.c.user_id == user_id, sessions.c.expires_at > time.time())
    return int(db.execute(query).scalar_one())
