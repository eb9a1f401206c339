"""Jinja2's compiled templates, kept in a per-user cache between runs of tkit.

It earns its place: `tkit new` renders about 50 templates, and compiling them is most of its run time
(benchmarks/cli_speed.py shows the run with and without it). Jinja2 stores each template's code with a
checksum of its source and recompiles when the source changes. The cache lives in
$XDG_CACHE_HOME/tornado-kit (default ~/.cache/tornado-kit), is used only when it is a private directory of
the current user (loading cached code is running it), and a cache that cannot be read or written is
simply skipped. TKIT_NO_TEMPLATE_CACHE=1 turns it off.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import jinja2

from tornado_kit import __version__


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


class QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Treat an unreadable or unwritable cache entry as a cache miss, never as a failure."""

    def __init__(self, directory: str, *, writable: bool) -> None:
        super().__init__(directory, pattern="%s.cache")
        self.writable = writable

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError):
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if not self.writable:
            return
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def bytecode_cache(*, writable: bool = True) -> QuietBytecodeCache | None:
    """A Jinja2 bytecode cache in the user's private cache directory, or None when there is none safe to use.

    With writable=False (a dry run) the cache is only read: no directory or file is created.
    """
    directory = private_directory(writable=writable)
    return QuietBytecodeCache(str(directory), writable=writable) if directory is not None else None
