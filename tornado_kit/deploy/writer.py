"""Write rendered deploy files: the only module of tornado_kit.deploy that touches the disk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tornado_kit.errors import TargetExists, TkitError

Action = Literal["create", "identical", "overwrite", "conflict"]


@dataclass(frozen=True)
class FileAction:
    """What happens to one target file."""

    path: Path
    text: str
    action: Action


def plan_writes(out: Path, files: Mapping[str, str], force: bool) -> list[FileAction]:
    """Classify each file: new, unchanged, or different (overwritten with --force, else a conflict)."""
    plan = []
    for relative, text in files.items():
        target = out / relative
        if not target.exists():
            action: Action = "create"
        elif target.is_file() and _read(target) == text:
            action = "identical"
        else:
            action = "overwrite" if force else "conflict"
        plan.append(FileAction(target, text, action))
    return plan


def apply_writes(plan: list[FileAction]) -> None:
    """Write the plan, or nothing at all if any file would be overwritten without --force."""
    conflicts = [str(item.path) for item in plan if item.action == "conflict"]
    if conflicts:
        raise TargetExists(f"these files exist and differ (use --force to overwrite): {', '.join(conflicts)}")
    for item in plan:
        if item.action in ("create", "overwrite"):
            _write_atomically(item.path, item.text)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file and rename, so a file is never left half-written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        raise TkitError(f"cannot write {path}: {exc}") from exc
