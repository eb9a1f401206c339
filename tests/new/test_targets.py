"""Existing targets: refused without --force (exit 1, nothing touched, no symlink followed); --force never
deletes and lists what it overwrote; --dry-run writes nothing."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import Snapshot

from tornado_kit import writer

Run = Callable[..., Result]
Snap = Callable[[Path], Snapshot]


def assert_refused(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: "), result.stderr
    for word in words:
        assert word in result.stderr


def test_existing_file_is_refused_even_with_force(workdir: Path, tkit: Run, snapshot: Snap) -> None:
    (workdir / "mysite").write_text("mine\n")
    before = snapshot(workdir.parent)
    for extra in ((), ("--force",)):
        assert_refused(tkit("new", "mysite", *extra), "not a directory")
        assert snapshot(workdir.parent) == before


def test_symlink_target_is_refused_and_not_followed(workdir: Path, tkit: Run, snapshot: Snap) -> None:
    elsewhere = workdir.parent / "elsewhere"
    elsewhere.mkdir()
    (workdir / "mysite").symlink_to(elsewhere)
    (workdir / "dangling").symlink_to(workdir.parent / "nowhere")
    before = snapshot(workdir.parent)
    for args in (("mysite",), ("mysite", "--force"), ("mysite", "dangling"), ("mysite", "dangling", "--force")):
        assert_refused(tkit("new", *args), "symlink")
        assert snapshot(workdir.parent) == before
    assert not (workdir.parent / "nowhere").exists()


def test_non_empty_directory_is_refused_without_force(workdir: Path, tkit: Run, snapshot: Snap) -> None:
    (workdir / "mysite").mkdir()
    (workdir / "mysite" / "notes.txt").write_text("keep me\n")
    before = snapshot(workdir.parent)
    assert_refused(tkit("new", "mysite"), "not empty", "--force")
    assert_refused(tkit("new", "mysite", "--dry-run"), "not empty")
    assert snapshot(workdir.parent) == before


def test_empty_directory_is_filled_in_place(workdir: Path, tkit: Run) -> None:
    # `mkdir x && cd x && tkit new mysite .` must leave the shell in the same (now filled) directory.
    inode = workdir.stat().st_ino
    result = tkit("new", "mysite", ".")
    assert result.exit_code == 0, result.output
    assert workdir.stat().st_ino == inode
    assert (workdir / "mysite" / "__init__.py").is_file() and (workdir / ".env").is_file()
    assert not [p for p in os.listdir(workdir) if p.startswith(".tkit-")]
    assert "\n  pip install -e . && tkit serve\n" in result.stdout  # already there: no `cd`


def test_force_keeps_foreign_files_and_lists_every_overwrite(workdir: Path, tkit: Run) -> None:
    assert tkit("new", "mysite").exit_code == 0
    root = workdir / "mysite"
    (root / "notes.txt").write_text("keep me\n")
    (root / "mysite" / "extra.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text("# my edits\n")
    (root / "mysite" / "__init__.py").unlink()
    gitignore = (root / ".gitignore").read_bytes()
    result = tkit("new", "mysite", "--force")
    assert result.exit_code == 0, result.output
    assert (root / "notes.txt").read_text() == "keep me\n" and (root / "mysite" / "extra.py").read_text() == "x = 1\n"
    assert (root / "mysite" / "__init__.py").is_file()
    assert "[tool.tkit]" in (root / "pyproject.toml").read_text()
    overwritten = sorted(
        line.split()[-1] for line in result.stdout.splitlines() if line.strip().startswith("overwrote")
    )
    assert overwritten == [".env", "pyproject.toml"]  # .env: a new secret; .gitignore was identical
    assert (root / ".gitignore").read_bytes() == gitignore
    assert not [p for p in os.listdir(root) if p.startswith(".tkit-")]


def test_force_refuses_to_write_through_a_symlinked_folder(workdir: Path, tkit: Run, snapshot: Snap) -> None:
    outside = workdir.parent / "outside"
    outside.mkdir()
    root = workdir / "mysite"
    root.mkdir()
    (root / "README.txt").write_text("existing\n")
    (root / "mysite").symlink_to(outside)  # the package folder points out of the project
    before = snapshot(workdir.parent)
    assert_refused(tkit("new", "mysite", "--force"), "mysite/__init__.py", "never replaced")
    assert snapshot(workdir.parent) == before
    assert list(outside.iterdir()) == []


def test_dry_run_lists_every_file_and_writes_nothing(workdir: Path, tkit: Run, snapshot: Snap) -> None:
    before = snapshot(workdir.parent)
    result = tkit("new", "mysite", "--dry-run")
    assert result.exit_code == 0, result.output
    assert snapshot(workdir.parent) == before
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("  create")}
    assert tkit("new", "mysite").exit_code == 0
    written = {str(p.relative_to(workdir / "mysite")) for p in (workdir / "mysite").rglob("*") if p.is_file()}
    assert listed == written


def test_dry_run_with_force_shows_what_would_be_overwritten(workdir: Path, tkit: Run, snapshot: Snap) -> None:
    assert tkit("new", "mysite").exit_code == 0
    (workdir / "mysite" / "pyproject.toml").write_text("# mine\n")
    before = snapshot(workdir.parent)
    result = tkit("new", "mysite", "--force", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "  overwrite pyproject.toml" in result.stdout and "  identical .gitignore" in result.stdout
    assert snapshot(workdir.parent) == before


def test_missing_parent_folders_are_created_and_removed_again_on_failure(
    workdir: Path, tkit: Run, snapshot: Snap, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workdir / "blocker").write_text("a file where a folder is needed\n")
    before = snapshot(workdir.parent)
    result = tkit("new", "mysite", "blocker/c/mysite")
    assert result.exit_code == 1 and "nothing was changed" in result.stderr, result.output
    real_mkdir, calls = os.mkdir, [0]

    def mkdir_failing_third(path: str | os.PathLike[str], mode: int = 0o777) -> None:
        calls[0] += 1
        if calls[0] == 3:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        real_mkdir(path, mode)

    monkeypatch.setattr(writer.os, "mkdir", mkdir_failing_third)
    result = tkit("new", "mysite", "a/b/c/mysite")
    assert calls[0] == 3 and result.exit_code == 1 and "Disk quota exceeded" in result.stderr, result.output
    assert snapshot(workdir.parent) == before
    monkeypatch.setattr(writer.os, "mkdir", real_mkdir)
    assert tkit("new", "mysite", "a/b/mysite").exit_code == 0 and (workdir / "a/b/mysite/pyproject.toml").is_file()


def test_dot_dot_after_a_symlink_is_resolved_like_the_os_does(workdir: Path, tkit: Run) -> None:
    elsewhere = workdir.parent / "elsewhere" / "inner"
    elsewhere.mkdir(parents=True)
    (workdir / "link").symlink_to(elsewhere)
    result = tkit("new", "mysite", "link/../site")
    assert result.exit_code == 0, result.output
    assert (workdir.parent / "elsewhere" / "site" / "pyproject.toml").is_file()  # where `mkdir link/../site` puts it
    assert not (workdir / "site").exists()
    assert tkit("new", "mysite", "..").exit_code == 1  # the parent: not empty, refused
