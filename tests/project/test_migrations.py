"""A generated project's schema changes for real: add a column to tables.py, `makemigrations`, `migrate`,
and the app serves the column; `migrate` twice changes nothing; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from pgcluster import Cluster
from support import free_port, stop_process_group, wait_for_http

pytestmark = pytest.mark.slow


def mysite(project: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m mysite ARGS` in the project, on `url`."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "mysite", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'round-trip.sqlite3'}"
        return
    cluster: Cluster = request.getfixturevalue("postgres")
    yield cluster.create_database(f"round_trip_{free_port()}")


def add_pinned_column(project: Path) -> None:
    """What a user does: one new column in tables.py, and the notes API returns it."""
    tables = project / "mysite" / "tables.py"
    text = tables.read_text()
    body = '    Column("body", Text, nullable=False),\n'
    assert body in text
    tables.write_text(text.replace(body, body + '    Column("pinned", Integer, nullable=False, server_default="0"),\n'))
    notes = project / "mysite" / "notes.py"
    fields = "notes.c.created_at, notes.c.updated_at)"
    assert fields in notes.read_text()
    notes.write_text(notes.read_text().replace(fields, "notes.c.created_at, notes.c.updated_at, notes.c.pinned)"))


def served_note(project: Path, url: str) -> dict[str, object]:
    """Start `python -m mysite`, create a note through the JSON API as notes.js does, and list it."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mysite", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for_http(f"{base}/notes", timeout=30) == 200
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.open(f"{base}/notes", timeout=10).read()
        xsrf = urllib.parse.unquote(next(cookie.value for cookie in jar if cookie.name == "_xsrf") or "")
        headers = {"Content-Type": "application/json", "X-XSRFToken": xsrf}
        body = json.dumps({"title": "migrated", "body": "it works"}).encode()
        opener.open(urllib.request.Request(f"{base}/api/notes", body, headers, method="POST"), timeout=10).read()
        with opener.open(f"{base}/api/notes", timeout=10) as response:
            notes = json.loads(response.read())["notes"]
        assert len(notes) == 1
        return dict(notes[0])
    finally:
        stop_process_group(server)


def test_add_a_column_makemigrations_migrate_and_serve_it(tmp_path: Path, database: str) -> None:
    from tornado_kit.new import new_project

    project = tmp_path / "mysite"
    new_project("mysite", project, auth=False)
    first = mysite(project, database, "migrate")
    assert first.returncode == 0, first.stderr
    assert "to 0001" in first.stdout
    add_pinned_column(project)
    made = mysite(project, database, "makemigrations", "add notes.pinned")
    assert made.returncode == 0, made.stderr
    revisions = sorted((project / "migrations" / "versions").glob("*add_notes_pinned.py"))
    assert len(revisions) == 1, sorted((project / "migrations" / "versions").iterdir())
    assert "add_column" in revisions[0].read_text() or "batch_alter_table" in revisions[0].read_text()
    behind = mysite(project, database, "migrate", "--check")
    assert behind.returncode == 1 and "migrate" in behind.stderr
    second = mysite(project, database, "migrate")
    assert second.returncode == 0, second.stderr
    assert "from 0001 to" in second.stdout
    again = mysite(project, database, "migrate")
    assert again.returncode == 0 and "up to date" in again.stdout
    env = {**os.environ, "DATABASE_URL": database}
    checked = subprocess.run(
        [sys.executable, "-m", "alembic", "check"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    note = served_note(project, database)
    assert note["pinned"] == 0 and note["title"] == "migrated"
