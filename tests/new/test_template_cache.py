"""Jinja2's compiled-template cache: used on later runs, never stale, never trusted unless private, and a
dry run writes nowhere."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import take_snapshot

from tornado_kit.new.skeleton import render_project
from tornado_kit.template_cache import bytecode_cache, cache_directory


@pytest.fixture
def skeleton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "skeleton" / "project"
    root.mkdir(parents=True)
    (root / "hello.txt.jinja").write_text("hello [[ name ]]\n")
    return root


def render_hello(skeleton: Path, name: str = "world") -> bytes:
    (file,) = render_project({"name": name, "package": "world"}, skeleton)
    return file.content


def test_compiled_templates_are_kept_and_a_changed_template_is_compiled_again(skeleton: Path) -> None:
    assert render_hello(skeleton) == b"hello world\n"
    cached = take_snapshot(cache_directory())
    assert [kind for kind, _, _ in cached.values()] == ["file"]
    assert render_hello(skeleton, "again") == b"hello again\n"
    assert take_snapshot(cache_directory()) == cached  # same source: the compiled code was reused
    (skeleton / "hello.txt.jinja").write_text("bye [[ name ]]\n")
    assert render_hello(skeleton) == b"bye world\n"


@pytest.mark.parametrize("garbage", [b"", b"\x00garbage", b"j2" + b"\x00" * 40])
def test_a_corrupt_cache_entry_is_a_miss(skeleton: Path, garbage: bytes) -> None:
    render_hello(skeleton)
    for entry in cache_directory().iterdir():
        entry.write_bytes(garbage)
    assert render_hello(skeleton) == b"hello world\n"


def test_a_cache_directory_others_can_write_is_not_used(skeleton: Path) -> None:
    cache_directory().mkdir(parents=True)
    os.chmod(cache_directory(), 0o777)
    assert bytecode_cache() is None
    assert render_hello(skeleton) == b"hello world\n"
    assert list(cache_directory().iterdir()) == []


def test_an_unwritable_cache_location_is_skipped(
    skeleton: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "not-a-dir").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-dir"))
    assert bytecode_cache() is None
    assert render_hello(skeleton) == b"hello world\n"


def test_the_cache_can_be_turned_off(skeleton: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TKIT_NO_TEMPLATE_CACHE", "1")
    assert render_hello(skeleton) == b"hello world\n"
    assert not cache_directory().exists()


def test_a_dry_run_reads_the_cache_but_writes_nowhere(
    workdir: Path, tkit: Callable[..., Result], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert tkit("new", "mysite", "--dry-run").exit_code == 0
    assert not (tmp_path / "cache").exists()
    assert tkit("new", "mysite").exit_code == 0
    cached = take_snapshot(cache_directory())
    assert cached
    assert tkit("new", "other", "--dry-run").exit_code == 0
    assert take_snapshot(cache_directory()) == cached
