"""The database folder read-only for a moment, under a real `python -m mysite`: writes answer 503 (no
traceback, the worker lives), and once the folder is writable again, logins and notes work again by
themselves (before the SQLAlchemy data layer, every later login answered 500 until a restart: each thread
kept its broken connection). As root the folder is bind-mounted read-only (root ignores file modes), otherwise
its mode is taken away."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from scale.harness import Client
from support import migrated_sqlite, running_project

pytestmark = pytest.mark.slow
PASSWORD = "correct horse battery staple"


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` (and the database files in it) cannot be written inside the block."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True, timeout=30)
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, timeout=30)
            yield
        finally:
            subprocess.run(["umount", "--lazy", str(folder)], check=True, timeout=30)  # the app still has files open
        return
    modes = {path: path.stat().st_mode for path in [folder, *folder.iterdir()]}
    for path in modes:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


async def scenario(base: str, folder: Path) -> None:
    """No request has touched the database yet, so the pool threads open their connections while the folder is
    read-only (SQLite then opens them read-only, for good), as after a restart during the outage."""
    with read_only(folder):
        attempts = [await Client().submit(base, "/login", username="olive", password=PASSWORD) for _ in range(6)]
        assert {response.code for response in attempts} == {503}, [r.code for r in attempts]
        assert b"Traceback" not in attempts[0].body
    for _ in range(8):  # every pool thread meets its broken connection at most once, then opens a new one
        response = await Client().submit(base, "/login", username="olive", password=PASSWORD, next="/")
        if response.code == 302:
            break
        assert response.code == 503, response.code
    assert response.code == 302
    logins = [await Client().submit(base, "/login", username="olive", password=PASSWORD, next="/") for _ in range(6)]
    assert [response.code for response in logins] == [302] * 6
    owner = Client()
    await owner.log_in(base, "olive", PASSWORD)
    for _ in range(4):
        assert (await owner.submit(base, "/notes", title="after", body="writable again")).code == 302


def test_service_comes_back_after_the_database_folder_was_read_only(generated_project: Path, tmp_path: Path) -> None:
    import asyncio

    folder = tmp_path / "db"
    folder.mkdir()
    url = migrated_sqlite(generated_project, folder / "app.sqlite3")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
    created = subprocess.run(
        [sys.executable, "-m", "mysite", "createuser", "olive"],
        cwd=generated_project,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    log = tmp_path / "server.log"
    with running_project(generated_project, env, log) as (url, server):
        asyncio.run(scenario(url, folder))
        assert server.poll() is None
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "503" in text
