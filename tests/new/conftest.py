"""Fixtures for the `tkit new` tests: run the CLI in a scratch folder and compare whole trees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from support import Snapshot, take_snapshot

from tornado_kit.cli import main


@pytest.fixture
def snapshot() -> Callable[[Path], Snapshot]:
    """take_snapshot, as a fixture."""
    return take_snapshot


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty current directory for the command."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture
def tkit() -> Callable[..., Result]:
    """Run `tkit ARGS...` in-process; stdout and stderr are kept apart."""

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args))

    return run
