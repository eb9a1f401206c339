"""Before the dev server starts the app: apply the project's pending database migrations (development only;
in production `python -m <package> migrate` runs once per deploy)."""

from __future__ import annotations

import os
import subprocess
import sys

from tornado_kit.serve.config import ServeConfig

MIGRATE_TIMEOUT = 120.0


def apply_migrations(config: ServeConfig) -> str | None:
    """Run `python -m <package> migrate` in the project if it has Alembic migrations; one line saying what
    happened (None when the project has none)."""
    if config.package is None or config.project_root is None:
        return None
    if not (config.project_root / "alembic.ini").is_file():
        return None
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(config.import_root), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "-m", config.package, "migrate"]
    try:
        result = subprocess.run(
            command, cwd=config.workdir, env=env, capture_output=True, text=True, timeout=MIGRATE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"migrations not applied: {exc}"
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or [f"exit status {result.returncode}"]
        return f"migrations not applied: {lines[-1].removeprefix('error: ')}"
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else "migrations applied"
