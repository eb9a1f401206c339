"""A per-user cache for `tkit new`: rendered projects with holes (see partial.py), and Jinja2's
compiled templates for when those miss.

A rendered entry (one file per feature set) is used only when its stored SHA-256 key matches one
computed over everything its output depends on: every skeleton file (path, mode, bytes), the
features manifest, the non-string context values (the features), the names of the string values,
tkit's version and the code of the renderer itself, so a stale entry is never read. Jinja2 stores
each template's code with a checksum of its source and recompiles when the source changes. The
cache lives in $XDG_CACHE_HOME/tornado-kit (default ~/.cache/tornado-kit), is used only when it is
a private directory of the current user (loading cached code is running it), and a cache that
cannot be read or written is simply skipped.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tornado_kit import __version__

_RENDERER_CODE = ("render.py", "partial.py", "template_cache.py")


def cache_directory() -> Path:
    """Where compiled templates of this tkit version are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tornado-kit" / f"templates-{__version__}"


def private_directory(*, writable: bool) -> Path | None:
    """The cache directory when it is safe to use (created when writable), else None."""
    if os.environ.get("TKIT_NO_TEMPLATE_CACHE"):
        return None
    directory = cache_directory()
    try:
        if writable:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
    except OSError:
        return None
    private = stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077
    return directory if private else None


def rendered_key(files: Iterable[tuple[str, int, bytes]], manifest: bytes, context: Mapping[str, Any]) -> str:
    """The cache key of a rendered project: changes whenever anything its output depends on changes."""
    import hashlib

    digest = hashlib.sha256(f"{__version__}\0".encode())
    for name in _RENDERER_CODE:
        digest.update(Path(__file__).with_name(name).read_bytes())
    for key, value in sorted(context.items()):
        digest.update(f"\0{key}={'<hole>' if isinstance(value, str) else repr(value)}".encode())
    digest.update(b"\0manifest\0%d\0%s" % (len(manifest), manifest))
    for path, mode, content in files:
        digest.update(f"\0{path}\0{mode:o}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def _entry_file(directory: Path, context: Mapping[str, Any]) -> Path:
    """One file per feature set: a newer entry (an edited template) replaces the old one instead of piling up."""
    features = ",".join(f"{key}={value!r}" for key, value in sorted(context.items()) if not isinstance(value, str))
    import hashlib

    return directory / f"project-{hashlib.sha256(features.encode()).hexdigest()[:16]}.json"


def load_rendered(key: str, context: Mapping[str, Any]) -> list[Any] | None:
    """The entry stored under `key`, or None (no safe cache, no entry, an unreadable entry or one for another key)."""
    directory = private_directory(writable=False)
    if directory is None:
        return None
    import json

    try:
        stored = json.loads(_entry_file(directory, context).read_bytes())
    except (OSError, ValueError):
        return None
    valid = isinstance(stored, dict) and stored.get("key") == key and isinstance(stored.get("files"), list)
    return stored["files"] if valid else None


def store_rendered(key: str, context: Mapping[str, Any], entry: list[Any]) -> None:
    """Store `entry` under `key` atomically (write a private temporary file, then rename); failures are ignored."""
    directory = private_directory(writable=True)
    if directory is None:
        return
    import json

    temporary = directory / f".{key}.{os.getpid()}.tmp"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"key": key, "files": entry}, out)
        os.replace(temporary, _entry_file(directory, context))
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()


def bytecode_cache(*, writable: bool = True) -> Any:
    """A Jinja2 bytecode cache in the user's private cache directory, or None when there is none safe to use.

    With writable=False (a dry run) the cache is only read: no directory or file is created.
    """
    directory = private_directory(writable=writable)
    return _quiet_cache(str(directory), writable) if directory is not None else None


def _quiet_cache(directory: str, writable: bool) -> Any:
    import jinja2

    class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
        """Treat an unreadable or unwritable cache entry as a cache miss, never as a failure."""

        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            try:
                super().load_bytecode(bucket)
            except (OSError, EOFError, ValueError, TypeError):
                bucket.reset()

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            if not writable:
                return
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass

    return QuietBytecodeCache(directory, pattern="%s.cache")
