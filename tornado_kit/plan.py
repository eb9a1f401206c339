"""Plan a project write before touching the disk: each file is classified create / identical /
overwrite / conflict, so --dry-run, --force and the refusals all come from one pure decision.

The plan only reads the target (with lstat: a symlink is never followed).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Literal, NamedTuple

from tornado_kit.errors import TargetExists
from tornado_kit.render import RenderedFile

Verb = Literal["create", "identical", "overwrite", "conflict"]
TargetState = Literal["new", "empty", "existing"]


class FileAction(NamedTuple):
    """What writing one file of the project would do."""

    path: PurePosixPath
    content: bytes
    mode: int
    verb: Verb


class Plan(NamedTuple):
    """Every file action for one target directory (absolute, its parent resolved)."""

    target: Path
    state: TargetState
    actions: tuple[FileAction, ...]

    def with_verb(self, *verbs: Verb) -> list[FileAction]:
        """The actions whose verb is one of `verbs`, in plan order."""
        return [action for action in self.actions if action.verb in verbs]


def absolute_target(directory: Path) -> Path:
    """`directory` with its parent resolved as the OS would (`link/..` is the link target's parent); the last
    segment is kept unresolved, so a symlink there is seen, not followed."""
    absolute = Path(directory).absolute()
    if absolute.name in ("", ".."):
        return absolute.resolve()
    return absolute.parent.resolve() / absolute.name


def plan_project(files: Iterable[RenderedFile], directory: Path, *, force: bool) -> Plan:
    """Classify every file against the target; raise TargetExists when the target may not be written."""
    target = absolute_target(directory)
    state = target_state(target, force=force)
    actions = tuple(_action(target, state, file) for file in files)
    conflicts = [str(action.path) for action in actions if action.verb == "conflict"]
    if conflicts:
        raise TargetExists(
            f"{target}: cannot write {', '.join(conflicts[:5])}{' ...' if len(conflicts) > 5 else ''}"
            " (a symlink, a directory or a special file is in the way; it is never replaced)"
        )
    return Plan(target, state, actions)


def target_state(target: Path, *, force: bool) -> TargetState:
    """Whether the target is new, an empty directory or a directory with files (only with `force`)."""
    try:
        info = target.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return "new"
    if stat.S_ISLNK(info.st_mode):
        raise TargetExists(f"{target} is a symlink; tkit never writes through one (give the real path)")
    if not stat.S_ISDIR(info.st_mode):
        raise TargetExists(f"{target} exists and is not a directory")
    with os.scandir(target) as entries:
        if next(entries, None) is None:
            return "empty"
    if not force:
        raise TargetExists(
            f"{target} exists and is not empty; use --force to write into it"
            " (nothing is deleted; every file overwritten is listed)"
        )
    return "existing"


def _action(target: Path, state: TargetState, file: RenderedFile) -> FileAction:
    verb = "create" if state != "existing" else classify(target, file.path, file.content)
    return FileAction(file.path, file.content, file.mode, verb)


def classify(target: Path, relative: PurePosixPath, content: bytes) -> Verb:
    """Compare one file with what is already at target/relative, without following symlinks."""
    current = target
    for index, part in enumerate(relative.parts, start=1):
        current = current / part
        kind = _kind(current)
        if kind != ("file" if index == len(relative.parts) else "dir"):
            return "create" if kind == "missing" else "conflict"
    return "identical" if current.read_bytes() == content else "overwrite"


def _kind(path: Path) -> str:
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"
