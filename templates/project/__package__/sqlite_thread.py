"""SQLite transactions in one worker thread each, as fast as plain sqlite3 on a thread pool.

SQLAlchemy's aiosqlite driver hands every driver call (cursor, execute, fetch, close, commit) to the
connection's own thread and back: five thread switches for one query, which costs more than the query on a
busy machine. Here a whole `Database.run()` (the query function, its statements and the commit) runs on one
pool thread, inside that thread's own event loop, over an AsyncConnection whose driver calls are plain
sqlite3 calls: one switch per transaction, as before SQLAlchemy, and the server's event loop never waits on
the disk. Each thread keeps its own engine (one connection), like the thread-local connections before.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool

T = TypeVar("T")


class Cursor:
    """The awaitable cursor interface SQLAlchemy's aiosqlite adapter expects, over a sqlite3 cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.cursor = cursor
        self.arraysize = cursor.arraysize

    async def __aenter__(self) -> Cursor:  # noqa: PYI034 - the adapter wants exactly this cursor back
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.cursor.close()

    @property
    def description(self) -> Any:
        return self.cursor.description

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self.cursor.lastrowid

    async def execute(self, sql: str, parameters: Any = ()) -> Cursor:
        self.cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Any) -> Cursor:
        self.cursor.executemany(sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        return self.cursor.fetchall()

    async def close(self) -> None:
        self.cursor.close()


class Connection:
    """The awaitable connection interface SQLAlchemy's aiosqlite adapter expects, over a sqlite3 connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> Cursor:
        return Cursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class ThreadedSQLite:
    """A small pool of threads, each with an event loop and an engine of its own over one SQLite connection."""

    def __init__(self, url: URL, configure: Callable[[sqlite3.Connection], None], max_workers: int = 4) -> None:
        self.url = url
        self.configure = configure
        self.executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="db")
        self.local = threading.local()
        self.lock = threading.Lock()
        self.engines: list[tuple[asyncio.AbstractEventLoop, AsyncEngine]] = []

    async def call(self, transaction: Callable[[AsyncEngine], Any]) -> Any:
        """Run `await transaction(engine)` to completion on a pool thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, self.in_thread, transaction)

    def in_thread(self, transaction: Callable[[AsyncEngine], Any]) -> Any:
        loop, engine = self.thread_engine()
        return loop.run_until_complete(transaction(engine))

    def thread_engine(self) -> tuple[asyncio.AbstractEventLoop, AsyncEngine]:
        found: tuple[asyncio.AbstractEventLoop, AsyncEngine] | None = getattr(self.local, "engine", None)
        if found is None:
            loop = asyncio.new_event_loop()
            engine = create_async_engine(self.url, async_creator=self.connect, poolclass=StaticPool)
            found = self.local.engine = (loop, engine)
            with self.lock:
                self.engines.append(found)
        return found

    async def connect(self) -> Connection:
        """A new sqlite3 connection (the driver begins transactions itself), configured like every other."""
        connection = sqlite3.connect(self.url.database or "", timeout=5.0, check_same_thread=False)
        self.configure(connection)
        return Connection(connection)

    def close(self) -> None:
        """Wait for running transactions, then close every thread's connection and loop."""
        self.executor.shutdown(wait=True)
        with self.lock:
            for loop, engine in self.engines:
                loop.run_until_complete(engine.dispose())
                loop.close()
            self.engines.clear()
