"""Apply a generate or destroy run all-or-nothing: files to delete are first moved aside, then the writer
puts the new and changed files in place (rolling its own steps back on failure); if that fails or is
interrupted, the moved files go back. Nothing is deleted for good until everything else has succeeded."""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from tornado_kit.plan import FileAction, Plan
from tornado_kit.writer import apply_plan


def apply_changes(root: Path, actions: list[FileAction], deletions: list[str]) -> None:
    """Write `actions` (create/overwrite) and delete `deletions` (paths relative to root), or change nothing."""
    staging = root / f".tkit-destroy-{secrets.token_hex(4)}"
    moved: list[tuple[Path, Path]] = []
    if deletions:
        os.mkdir(staging, 0o700)
    try:
        for index, relative in enumerate(deletions):
            os.rename(root / relative, staging / str(index))
            moved.append((staging / str(index), root / relative))
        if actions:
            apply_plan(Plan(root, "existing", tuple(actions)))
    except BaseException:
        for aside, original in reversed(moved):
            os.rename(aside, original)  # should this fail, the file stays in the staging folder
        if deletions:
            os.rmdir(staging)  # only if it is empty again
        raise
    if deletions:
        shutil.rmtree(staging)
