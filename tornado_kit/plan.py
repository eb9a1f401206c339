"""Plan a write before touching the disk: the one plan step of `tkit new`, `tkit deploy-config` and the
generators. Pure: it only reads the target, with lstat (a symlink is never followed).

Use it in three steps, then apply the plan with `tornado_kit.writer.apply_plan`:

    files = [RenderedFile(PurePosixPath("app/views.py"), b"...", 0o644), ...]   # what you rendered
    plan = plan_files(files, project_root, force=force)     # classify each file against the disk
    plan.check_conflicts()                                  # refuse (TargetExists) before writing anything
    if dry_run:
        for action in plan.actions: print(action.verb, action.path)   # or render_diff(plan, action)
    else:
        apply_plan(plan)                                    # all-or-nothing; a failure restores the disk

Each file is classified with one verb:
- create:    nothing is there (missing parent folders are created too);
- identical: a regular file with exactly these bytes is there (it is left alone);
- overwrite: a regular file with other bytes is there and `force` was given;
- conflict:  a regular file with other bytes and no `force` (reason DIFFERS), or something that is
             never replaced, even with `force`: a symlink, a folder, a special file, or a non-folder
             where a parent folder must be (reason BLOCKED).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Literal, NamedTuple

from tornado_kit.errors import TargetExists

Verb = Literal["create", "identical", "overwrite", "conflict"]
TargetState = Literal["new", "empty", "existing"]
DIFFERS = "exists and differs"
BLOCKED = "a symlink, a folder or a special file is in the way"
_LISTED = 5  # conflicts named in an error message


class RenderedFile(NamedTuple):
    """One file to write: its path relative to the target folder (POSIX, no `..`), bytes and mode."""

    path: PurePosixPath
    content: bytes
    mode: int = 0o644


class FileAction(NamedTuple):
    """What writing one file would do; `reason` says why a conflict is one (DIFFERS or BLOCKED)."""

    path: PurePosixPath
    content: bytes
    mode: int
    verb: Verb
    reason: str = ""


class Plan(NamedTuple):
    """Every file action for one target folder (absolute, its parent resolved, itself never a symlink).

    `label` names what is written in error messages ("the project", "the deploy files").
    """

    target: Path
    state: TargetState
    actions: tuple[FileAction, ...]
    label: str = "the files"

    def with_verb(self, *verbs: Verb) -> list[FileAction]:
        """The actions whose verb is one of `verbs`, in plan order."""
        return [action for action in self.actions if action.verb in verbs]

    def check_conflicts(self) -> None:
        """Raise TargetExists naming the conflicting files; blocked paths first (`--force` cannot help)."""
        blocked = [action for action in self.actions if action.verb == "conflict" and action.reason == BLOCKED]
        if blocked:
            raise TargetExists(f"cannot write {self._listing(blocked)} ({BLOCKED}; it is never replaced)")
        differing = self.with_verb("conflict")
        if differing:
            raise TargetExists(f"these files exist and differ (use --force to overwrite): {self._listing(differing)}")

    def _listing(self, actions: list[FileAction]) -> str:
        names = ", ".join(str(self.target / action.path) for action in actions[:_LISTED])
        return names + (f" and {len(actions) - _LISTED} more" if len(actions) > _LISTED else "")


def plan_files(files: Iterable[RenderedFile], directory: Path, *, force: bool, label: str = "the files") -> Plan:
    """Classify every file against what is at `directory` now; raises TargetExists only when the folder
    itself cannot be written into (a symlink or not a folder). Call `Plan.check_conflicts` before applying."""
    target = absolute_target(directory)
    state = target_state(target)
    if state == "existing":
        actions = tuple(classify(target, file, force=force) for file in files)
    else:
        actions = tuple(FileAction(file.path, file.content, file.mode, "create") for file in files)
    return Plan(target, state, actions, label)


def absolute_target(directory: Path) -> Path:
    """`directory` with its parent resolved as the OS would (`link/..` is the link target's parent); the last
    segment is kept unresolved, so a symlink there is seen, not followed."""
    absolute = Path(directory).absolute()
    if absolute.name in ("", ".."):
        return absolute.resolve()
    return absolute.parent.resolve() / absolute.name


def target_state(target: Path) -> TargetState:
    """Whether the target folder is new, empty or holds entries; TargetExists if it is a symlink or a file."""
    try:
        info = target.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return "new"
    if stat.S_ISLNK(info.st_mode):
        raise TargetExists(f"{target} is a symlink; tkit never writes through one (give the real path)")
    if not stat.S_ISDIR(info.st_mode):
        raise TargetExists(f"{target} exists and is not a directory")
    with os.scandir(target) as entries:
        return "empty" if next(entries, None) is None else "existing"


def classify(target: Path, file: RenderedFile, *, force: bool) -> FileAction:
    """Compare one file with what is at target/file.path now, without following symlinks."""
    current = target
    for index, part in enumerate(file.path.parts, start=1):
        current = current / part
        kind = _kind(current)
        if kind != ("file" if index == len(file.path.parts) else "dir"):
            if kind == "missing":
                return FileAction(file.path, file.content, file.mode, "create")
            return FileAction(file.path, file.content, file.mode, "conflict", BLOCKED)
    if current.read_bytes() == file.content:
        return FileAction(file.path, file.content, file.mode, "identical")
    if force:
        return FileAction(file.path, file.content, file.mode, "overwrite")
    return FileAction(file.path, file.content, file.mode, "conflict", DIFFERS)


def _kind(path: Path) -> str:
    try:
        mode = path.lstat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    if stat.S_ISDIR(mode):
        return "dir"
    return "file" if stat.S_ISREG(mode) else "other"


def render_diff(plan: Plan, action: FileAction) -> str:
    """A unified diff from the file on disk to the planned content (empty for create and identical files).

    For `--diff` output of an overwrite or a DIFFERS conflict; a file that is not UTF-8 text gets one line.
    """
    if action.verb not in ("overwrite", "conflict") or action.reason == BLOCKED:
        return ""
    try:
        old = (plan.target / action.path).read_bytes().decode("utf-8")
        new = action.content.decode("utf-8")
    except UnicodeDecodeError:
        return f"Binary files a/{action.path} and b/{action.path} differ\n"
    import difflib  # measured 3-7 ms of `tkit new`'s start-up: only a diff pays for it

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{action.path}", f"b/{action.path}"
    )
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
