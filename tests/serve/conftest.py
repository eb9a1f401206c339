"""Fixtures for `tkit serve` tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serve.devserver import PLAIN_APP, DevServer, plain_handler


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., DevServer]]:
    """Start dev servers for one test; every one is killed (by process group) at the end."""
    servers: list[DevServer] = []

    def start(cwd: Path, *args: str, open_files: int | None = None) -> DevServer:
        server = DevServer(cwd, list(args), tmp_path, open_files=open_files)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def plain_app(tmp_path: Path) -> Path:
    """A plain Tornado app (no pyproject, no tkit project) in its own folder."""
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "plain_app.py").write_text(PLAIN_APP)
    (folder / "plain_handlers.py").write_text(plain_handler("plain-1"))
    return folder
