"""The compiled-template cache: used on later runs, never stale, and never trusted unless private."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from new.treesnap import take_snapshot

from tornado_kit.render import render_project
from tornado_kit.template_cache import bytecode_cache, cache_directory


@pytest.fixture
def skeleton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "skeleton" / "project"
    root.mkdir(parents=True)
    (root / "hello.txt.jinja").write_text("hello [[ name ]]\n")
    return root


def render_hello(skeleton: Path) -> bytes:
    (file,) = render_project({"name": "world", "package": "world"}, skeleton)
    return file.content


def test_a_second_render_loads_the_compiled_template_from_the_cache(skeleton: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert render_hello(skeleton) == b"hello world\n"
    cached = list(cache_directory().iterdir())
    assert len(cached) == 1 and oct(cache_directory().stat().st_mode & 0o777) == "0o700"
    import jinja2

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the cache holds the template")

    monkeypatch.setattr(jinja2.Environment, "compile", no_compiling)
    assert render_hello(skeleton) == b"hello world\n"


def test_a_changed_template_is_recompiled_not_served_stale(skeleton: Path) -> None:
    assert render_hello(skeleton) == b"hello world\n"
    (skeleton / "hello.txt.jinja").write_text("goodbye [[ name ]]\n")
    assert render_hello(skeleton) == b"goodbye world\n"


def test_a_corrupt_cache_entry_is_a_miss(skeleton: Path) -> None:
    render_hello(skeleton)
    for entry in cache_directory().iterdir():
        entry.write_bytes(b"\x00garbage")
    assert render_hello(skeleton) == b"hello world\n"


def test_a_cache_directory_others_can_write_is_not_used(skeleton: Path) -> None:
    cache_directory().mkdir(parents=True)
    os.chmod(cache_directory(), 0o777)
    assert bytecode_cache() is None
    assert render_hello(skeleton) == b"hello world\n"
    assert list(cache_directory().iterdir()) == []


def test_an_unwritable_cache_location_is_skipped(skeleton: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-dir"))
    assert bytecode_cache() is None
    assert render_hello(skeleton) == b"hello world\n"


def test_a_dry_run_reads_the_cache_but_writes_nowhere(workdir: Path, tkit: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert tkit("new", "mysite", "--dry-run").exit_code == 0
    assert not (tmp_path / "cache").exists()
    assert tkit("new", "mysite").exit_code == 0
    cached = take_snapshot(cache_directory())
    assert cached
    assert tkit("new", "other", "--dry-run").exit_code == 0
    assert take_snapshot(cache_directory()) == cached
