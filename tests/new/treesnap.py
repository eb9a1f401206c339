"""Whole-tree snapshots, so tests can assert that a refused or failed run changed nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

Snapshot = dict[str, tuple[str, int, bytes]]


def take_snapshot(root: Path) -> Snapshot:
    """Every entry under `root` (hidden ones too) with its kind, permission bits and content or link target."""
    entries: Snapshot = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                entries[key] = ("link", 0, os.readlink(path).encode())
            elif stat.S_ISDIR(info.st_mode):
                entries[key] = ("dir", stat.S_IMODE(info.st_mode), b"")
            else:
                entries[key] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return entries
