"""Schema migrations with Alembic: `python -m <package> migrate` / `makemigrations`, and the startup check."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from .db import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SchemaBehind(Exception):
    """The database lacks migrations that the code needs."""


def alembic_config(database_url: str) -> Config:
    """The project's alembic.ini (next to the package, else in the working directory), for this database."""
    ini = PROJECT_ROOT / "alembic.ini"
    if not ini.is_file():
        ini = Path.cwd() / "alembic.ini"
    config = Config(str(ini))
    config.set_main_option("script_location", str(ini.parent / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False  # the caller's logging stays as it is
    return config


def head_revisions(config: Config) -> set[str]:
    """The revisions the code expects (normally one)."""
    return set(ScriptDirectory.from_config(config).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    """The revisions recorded in the database (empty for a fresh one)."""
    return set(MigrationContext.configure(connection).get_current_heads())


async def pending(database: Database) -> tuple[set[str], set[str]]:
    """(current, head) revisions; they differ when migrations are pending."""
    config = alembic_config(database.url_text)
    current = await database.run(current_revisions)
    return current, head_revisions(config)


async def check_current(database: Database) -> None:
    """Raise SchemaBehind unless the database is at the head revision."""
    current, head = await pending(database)
    if current != head:
        shown = ", ".join(sorted(current)) or "no tables"
        raise SchemaBehind(f"the database is behind the code ({shown}); run `python -m {__package__} migrate`")


async def revisions_in(database_url: str) -> set[str]:
    """The revisions a database is at (empty for a fresh one)."""
    database = Database(database_url)
    try:
        return await database.run(current_revisions)
    finally:
        await database.close()


def upgrade(database_url: str) -> str:
    """Apply every pending migration and say what changed, in one line (concurrent runs wait for each other)."""
    before = asyncio.run(revisions_in(database_url))
    command.upgrade(alembic_config(database_url), "head")
    after = asyncio.run(revisions_in(database_url))
    if before == after:
        return f"the database is up to date (revision {', '.join(sorted(after))})"
    return f"migrated the database from {', '.join(sorted(before)) or 'nothing'} to {', '.join(sorted(after))}"


def make_revision(database_url: str, message: str) -> None:
    """Write a new revision file from the difference between tables.py and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
