"""Apply a Plan (see plan.py): the only module that writes planned files, and it does so all-or-nothing.

`apply_plan(plan)` writes the plan's create and overwrite actions and nothing else. Every file is first
written into a staging folder on the same file system as the target. A new target folder is then renamed
into place in one step. Writing into an existing folder moves the staged files in one by one, keeping
each overwritten file in the staging folder until the end, so that a failure at any point (a full disk,
Ctrl-C, a file that appeared meanwhile) rolls everything back: created files and folders are removed,
overwritten files restored. Files are created with O_EXCL | O_NOFOLLOW and their mode from the start.
On failure it raises WriteFailed (an OSError's reason, "nothing was changed"); a plan with conflicts is
refused with TargetExists before anything is written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from tornado_kit.errors import TkitError
from tornado_kit.plan import FileAction, Plan

_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class WriteFailed(TkitError):
    """The files could not be written; nothing was left behind."""


def apply_plan(plan: Plan) -> None:
    """Write the plan's created and overwritten files; on any failure leave the disk as it was."""
    plan.check_conflicts()
    try:
        if plan.state == "new":
            _write_new_directory(plan)
        else:
            _write_into_directory(plan)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WriteFailed(f"could not write {plan.label} to {plan.target}: {reason}; nothing was changed") from exc


def _write_new_directory(plan: Plan) -> None:
    created_parents = _make_parents(plan.target.parent)
    staging = _staging_dir(plan.target.parent, f".{plan.target.name}.tkit-")
    try:
        _stage(plan.with_verb("create"), staging)
        _move(staging, plan.target)  # fails if a non-empty directory appeared there meanwhile
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        _remove_empty(created_parents)
        raise


def _write_into_directory(plan: Plan) -> None:
    staging = _staging_dir(plan.target, ".tkit-", mode=0o700)
    undo: list[Callable[[], None]] = []
    backups_safe_to_drop = False
    try:
        _stage(plan.with_verb("create", "overwrite"), staging / "new")
        for action in plan.with_verb("create", "overwrite"):
            _move_into_place(action, plan.target, staging, undo)
        backups_safe_to_drop = True
    except BaseException:
        backups_safe_to_drop = _roll_back(undo)
        raise
    finally:
        _clean_staging(staging, keep_backups=not backups_safe_to_drop)


def _roll_back(undo: list[Callable[[], None]]) -> bool:
    """Undo the steps taken, newest first; False if any step failed (originals may still be in staging)."""
    complete = True
    for step in reversed(undo):
        try:
            step()
        except FileNotFoundError:
            pass  # the step it undoes never happened
        except OSError:
            complete = False
    return complete


def _clean_staging(staging: Path, *, keep_backups: bool) -> None:
    """Remove the staging directory, unless it holds originals that could not be put back."""
    old = staging / "old"
    if keep_backups and old.is_dir() and any(p.is_file() for p in old.rglob("*")):
        shutil.rmtree(staging / "new", ignore_errors=True)
        import logging  # only on this rare path: importing it measured 20-30 ms of `tkit new`'s start-up

        logging.getLogger(__name__).warning(
            "tkit could not restore every overwritten file; the originals are kept in %s", old
        )
        return
    shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(action: FileAction, target: Path, staging: Path, undo: list[Callable[[], None]]) -> None:
    """Move one staged file to its place; an overwritten file's restore is recorded before it is moved."""
    destination = target / action.path
    for directory in reversed(destination.parents):
        if directory.is_relative_to(target) and not os.path.lexists(directory):
            os.mkdir(directory)
            undo.append(directory.rmdir)
    if action.verb == "overwrite":
        backup = staging / "old" / action.path
        backup.parent.mkdir(parents=True, exist_ok=True)
        undo.append(lambda: os.replace(backup, destination))
        _move(destination, backup)
    elif os.path.lexists(destination):
        raise FileExistsError(f"{destination} appeared while tkit was writing")
    _move(staging / "new" / action.path, destination)
    if action.verb == "create":
        undo.append(destination.unlink)


def _stage(actions: list[FileAction], root: Path) -> None:
    made: set[str] = set()  # folders (relative to root, "" for root itself) known to exist
    for action in actions:
        relative = str(action.path)
        folder = relative.rpartition("/")[0]
        if folder not in made:
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            made.add(folder)
        write_file(os.path.join(root, relative), action.content, action.mode)


def write_file(path: Path | str, content: bytes, mode: int) -> None:
    """Create `path` with `mode` from the start (so .env is never readable by others), never following a symlink."""
    fd = os.open(path, _OPEN_FLAGS, mode)
    try:
        _write_all(fd, content)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _move(source: Path, destination: Path) -> None:
    os.rename(source, destination)


def _staging_dir(parent: Path, prefix: str, mode: int = 0o777) -> Path:
    path = parent / f"{prefix}{secrets.token_hex(4)}"
    os.mkdir(path, mode)
    return path


def _make_parents(directory: Path) -> list[Path]:
    """Create the missing ancestors of the target, returning them (outermost first) for cleanup."""
    missing = [d for d in (directory, *directory.parents) if not os.path.lexists(d)]
    created: list[Path] = []
    try:
        for path in reversed(missing):
            os.mkdir(path)
            created.append(path)
    except BaseException:
        _remove_empty(created)
        raise
    return created


def _remove_empty(directories: list[Path]) -> None:
    """Remove directories this run created (innermost first), if still empty."""
    for directory in reversed(directories):
        with contextlib.suppress(OSError):
            directory.rmdir()
