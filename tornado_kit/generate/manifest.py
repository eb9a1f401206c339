"""What `tkit generate` wrote, kept in the project (`.tkit/generated.json`, meant to be committed) so that
`tkit destroy` can take out exactly that, and nothing the user has changed since."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from tornado_kit.errors import TkitError

MANIFEST = PurePosixPath(".tkit/generated.json")
VERSION = 1


class Entry(NamedTuple):
    """One generated page, resource or websocket."""

    files: dict[str, str]  # path relative to the project root -> sha256 of what was written
    imports: list[str]  # lines added to the URL map
    routes: list[str]  # url(...) expressions added to the URL map
    edits: list[list[str]] = []  # noqa: RUF012 - never mutated; [path, text added, text it replaced], in order
    migration: str | None = None  # a migration that may have run is never deleted


def key(kind: str, name: str) -> str:
    """The manifest key of one generated thing."""
    return f"{kind} {name}"


def digest(content: bytes) -> str:
    """The fingerprint a file is compared with to tell whether the user changed it."""
    return hashlib.sha256(content).hexdigest()


def load(root: Path) -> dict[str, Entry]:
    """The entries of the project's manifest (none when there is no manifest yet)."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise TkitError(f"cannot read {MANIFEST}: {exc}") from exc
    try:
        entries = {name: Entry(**value) for name, value in data["generated"].items()}
        paths = [path for entry in entries.values() for path in [*entry.files, *(edit[0] for edit in entry.edits)]]
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise TkitError(f"{MANIFEST} is not a manifest tkit wrote ({exc}); fix or remove it") from exc
    outside = [path for path in paths if PurePosixPath(path).is_absolute() or ".." in PurePosixPath(path).parts]
    if outside:
        raise TkitError(f"{MANIFEST} names a file outside the project ({outside[0]}); tkit will not touch it")
    return entries


def dump(entries: dict[str, Entry]) -> bytes:
    """The manifest file's bytes, stable (sorted) so that it diffs well in version control."""
    data: dict[str, Any] = {
        "version": VERSION,
        "generated": {name: entries[name]._asdict() for name in sorted(entries)},
    }
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")
