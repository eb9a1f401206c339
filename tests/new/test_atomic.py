"""All-or-nothing: a failure at any point (a template error, a full disk, Ctrl-C while writing or while
moving files into place) leaves the file system exactly as it was. Failures are injected."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from support import Snapshot

from tornado_kit import writer
from tornado_kit.new import skeleton as project_skeleton
from tornado_kit.templates import templates_root

Run = Callable[..., Result]
Snap = Callable[[Path], Snapshot]


def prepare(kind: str, workdir: Path, tkit: Run) -> list[str]:
    """Set up a target of the given kind and return the `tkit new` arguments that write into it."""
    if kind == "empty":
        (workdir / "mysite").mkdir()
    if kind == "force":
        assert tkit("new", "mysite").exit_code == 0
        (workdir / "mysite" / "pyproject.toml").write_text("# my edits\n")
        (workdir / "mysite" / "mine.txt").write_text("keep\n")
        for path in list((workdir / "mysite" / "mysite").iterdir())[:2]:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        return ["new", "mysite", "--force"]
    return ["new", "mysite"]


def fail_on_call(monkeypatch: pytest.MonkeyPatch, name: str, call: int, error: BaseException) -> list[int]:
    """Make writer.<name> raise `error` on its `call`-th use (after writing half the data, for writes)."""
    original = getattr(writer, name)
    calls = [0]

    def faulty(*args: object) -> None:
        calls[0] += 1
        if calls[0] == call:
            if name == "_write_all":
                fd, data = args
                original(fd, bytes(data)[: len(data) // 2])  # type: ignore[arg-type]
            raise error
        original(*args)

    monkeypatch.setattr(writer, name, faulty)
    return calls


FAULTS = [
    ("_write_all", 1, OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    ("_write_all", 4, OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    ("_write_all", 3, KeyboardInterrupt(), "Aborted"),
    ("_move", 1, KeyboardInterrupt(), "Aborted"),
    ("_move", 1, OSError(errno.EXDEV, "Invalid cross-device link"), "Invalid cross-device link"),
]


@pytest.mark.parametrize("kind", ["new", "empty", "force"])
@pytest.mark.parametrize(("function", "call", "error", "message"), FAULTS)
def test_failure_while_writing_leaves_nothing_behind(
    kind: str,
    function: str,
    call: int,
    error: BaseException,
    message: str,
    workdir: Path,
    tkit: Run,
    snapshot: Snap,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = prepare(kind, workdir, tkit)
    before = snapshot(workdir.parent)
    calls = fail_on_call(monkeypatch, function, call, error)
    result = tkit(*args)
    assert calls[0] >= call, "the fault was never reached"
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert snapshot(workdir.parent) == before


@pytest.mark.parametrize("kind", ["empty", "force"])
@pytest.mark.parametrize("call", [2, 5, -1])
def test_ctrl_c_while_moving_files_into_an_existing_directory_restores_it(
    kind: str, call: int, workdir: Path, tkit: Run, snapshot: Snap, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = prepare(kind, workdir, tkit)
    planned = len(
        [line for line in tkit(*args, "--dry-run").stdout.splitlines() if line.startswith(("  create", "  overwrite"))]
    )
    before = snapshot(workdir.parent)
    call = planned if call == -1 else call  # -1: the very last file
    calls = fail_on_call(monkeypatch, "_move", call, KeyboardInterrupt())
    result = tkit(*args)
    assert calls[0] == call and result.exit_code == 1, result.output
    assert snapshot(workdir.parent) == before


@pytest.mark.parametrize("broken", ["[[ no_such_variable ]]\n", "[% if %]\n", "[[ name | no_such_filter ]]\n"])
@pytest.mark.parametrize("kind", ["new", "force"])
def test_template_error_names_the_template_and_writes_nothing(
    broken: str, kind: str, workdir: Path, tkit: Run, snapshot: Snap, monkeypatch: pytest.MonkeyPatch
) -> None:
    args = prepare(kind, workdir, tkit)
    skeleton = workdir.parent / "skeleton"
    shutil.copytree(templates_root(), skeleton)
    (skeleton / "project" / "zz_broken.txt.jinja").write_text(broken)
    monkeypatch.setattr(project_skeleton, "templates_root", lambda: skeleton)
    before = snapshot(workdir.parent)
    result = tkit(*args)
    assert result.exit_code == 1, result.output
    assert "template zz_broken.txt.jinja could not be rendered" in result.stderr
    assert snapshot(workdir.parent) == before


def test_originals_that_cannot_be_restored_are_kept_not_deleted(
    workdir: Path, tkit: Run, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    prepare("force", workdir, tkit)
    verbs = [line.split()[0] for line in tkit("new", "mysite", "--force", "--dry-run").stdout.splitlines()[1:]]
    last_move = verbs.count("create") + 2 * verbs.count("overwrite")  # an overwrite is two moves
    fail_on_call(monkeypatch, "_move", last_move, KeyboardInterrupt())

    def replace_fails(source: object, destination: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(writer.os, "replace", replace_fails)
    result = tkit("new", "mysite", "--force")
    assert result.exit_code == 1
    kept = list((workdir / "mysite").glob(".tkit-*/old/pyproject.toml"))
    assert [p.read_text() for p in kept] == ["# my edits\n"]
    assert "originals are kept in" in caplog.text
