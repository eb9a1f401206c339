"""`--deploy` checks of the project's database: one database server for several hosts, migrations applied."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext

DEFAULT_SCHEME = "sqlite"  # a generated project's DATABASE_URL when unset
MIGRATE_CHECK_TIMEOUT = 60.0


def has_migrations(context: CheckContext) -> bool:
    """The project keeps Alembic migrations (projects made by tkit 0.1 and later with a data layer)."""
    return context.project is not None and (context.root / "alembic.ini").is_file()


def uses_sqlite(context: CheckContext) -> bool:
    """DATABASE_URL (as the app reads it) is SQLite, which only one host can use."""
    url = context.env.get("DATABASE_URL", "").strip()
    return (url.split(":", 1)[0].split("+", 1)[0] if url else DEFAULT_SCHEME) == "sqlite"


def worker_hosts(context: CheckContext) -> set[str]:
    """The distinct `--address` values the supervisor programs bind their workers to."""
    hosts = set()
    for process in context.supervisor:
        argv = process.argv
        for index, word in enumerate(argv[:-1]):
            if word == "--address":
                hosts.add(argv[index + 1])
    return hosts


@register(
    "database.E001",
    Level.ERROR,
    "Set DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST/DBNAME in .env: one database server for every host.",
    deploy=True,
)
def one_database_for_several_hosts(context: CheckContext) -> Iterator[str]:
    """SQLite is a file on one host: workers on several hosts would each keep their own users and sessions."""
    hosts = worker_hosts(context)
    if has_migrations(context) and len(hosts) > 1 and uses_sqlite(context):
        yield f"the workers run on {len(hosts)} hosts ({', '.join(sorted(hosts))}) but DATABASE_URL is SQLite"


@register(
    "database.E002",
    Level.ERROR,
    "Run `python -m PACKAGE migrate` once per deploy, before `supervisorctl update` (see deploy/README.md).",
    deploy=True,
)
def migrations_applied(context: CheckContext) -> Iterator[str]:
    """The workers refuse to start on a database behind the code."""
    if not has_migrations(context) or context.project is None:
        return
    command = [sys.executable, "-m", context.project.package, "migrate", "--check"]
    try:
        result = subprocess.run(
            command,
            cwd=context.root,
            env=context.env,
            capture_output=True,
            text=True,
            timeout=MIGRATE_CHECK_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        yield f"cannot tell whether migrations are pending: {exc}"
        return
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        yield lines[-1].removeprefix("error: ")
