"""The dev server keeps the development database at head: before the first app process, and before each new
one when a migration or `.env` changed (a `tkit generate resource` or a `makemigrations` while it serves).
Development only; in production `python -m <package> migrate` runs once per deploy."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tornado_kit.serve.config import ServeConfig

MIGRATE_TIMEOUT = 120.0


def has_migrations(config: ServeConfig) -> bool:
    """A tkit project with Alembic migrations (an `alembic.ini` at its root)."""
    return (
        config.package is not None
        and config.project_root is not None
        and (config.project_root / "alembic.ini").is_file()
    )


def may_be_behind(config: ServeConfig, changed: Iterable[Path]) -> bool:
    """Whether a change can leave the database behind the code: a file under `migrations/`, or `.env` (which
    may point DATABASE_URL at another database)."""
    if not has_migrations(config):
        return False
    assert config.project_root is not None
    folder, settings = config.project_root / "migrations", config.project_root / ".env"
    return any(path == settings or folder in path.parents for path in changed)


async def apply_migrations(config: ServeConfig) -> str | None:
    """Run `python -m <package> migrate` without blocking the dev server's loop (killed if cancelled); one line
    saying what happened, None when the project has no migrations."""
    if not has_migrations(config):
        return None
    assert config.package is not None
    import_path = os.pathsep.join(filter(None, [str(config.import_root), os.environ.get("PYTHONPATH")]))
    try:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", config.package, "migrate"),
            cwd=config.workdir,
            env={**os.environ, "PYTHONPATH": import_path},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    except OSError as exc:
        return f"migrations not applied: {exc}"
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), MIGRATE_TIMEOUT)
    except TimeoutError:
        return f"migrations not applied: no answer within {MIGRATE_TIMEOUT:g} s"
    finally:
        if process.returncode is None:  # timed out, or the dev server is stopping
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return _outcome(process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"))


def _outcome(returncode: int, stdout: str, stderr: str) -> str:
    """The migrate command's own last line (`migrated the database from 0001 to 0002`), or why it failed."""
    if returncode != 0:
        lines = stderr.strip().splitlines() or [f"exit status {returncode}"]
        return f"migrations not applied: {lines[-1].removeprefix('error: ')}"
    lines = stdout.strip().splitlines()
    return lines[-1] if lines else "migrations applied"
