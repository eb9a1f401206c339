"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import Cluster, throwaway_cluster


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME at an empty folder so no test reads or writes the user's files."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture(scope="session")
def generated_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One default project shared by every test that only reads or runs it (never edit it)."""
    from tornado_kit.new import new_project

    root = tmp_path_factory.mktemp("generated") / "mysite"
    new_project("mysite", root)
    return root


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """One throwaway PostgreSQL cluster for the whole run (started on first use, stopped at the end)."""
    with throwaway_cluster() as cluster:
        yield cluster
