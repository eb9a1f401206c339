"""Make each reload pay only for the project's own code.

An app process tells the fork server what it imported: modules from outside the project (stdlib,
third-party) are imported by the fork server so the next fork starts with them, and the project's
source files are compiled there (compiled, never executed) so the next app process skips compiling
unchanged files, even with PYTHONDONTWRITEBYTECODE set. Stale entries are found by mtime and size.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import os
import sys
import threading
from pathlib import Path
from types import CodeType
from typing import Any

from tornado_kit.serve.protocol import Message, Signal, encode

Entry = tuple[int, int, CodeType]


class CodeCache:
    """Compiled project modules keyed by path, valid while (mtime_ns, size) are unchanged."""

    def __init__(self) -> None:
        self.entries: dict[str, Entry] = {}

    def add(self, path: str) -> None:
        """Compile `path` (again if it changed since it was cached)."""
        try:
            info = os.stat(path)
            entry = self.entries.get(path)
            if entry and entry[:2] == (info.st_mtime_ns, info.st_size):
                return
            with open(path, "rb") as source:
                code = compile(source.read(), path, "exec", dont_inherit=True)
        except (OSError, SyntaxError, ValueError):
            self.entries.pop(path, None)
            return
        self.entries[path] = (info.st_mtime_ns, info.st_size, code)

    def lookup(self, path: str) -> CodeType | None:
        """The cached code for `path` if the file is unchanged."""
        entry = self.entries.get(path)
        if entry is None:
            return None
        try:
            info = os.stat(path)
        except OSError:
            return None
        return entry[2] if entry[:2] == (info.st_mtime_ns, info.st_size) else None

    def install(self) -> None:
        """In an app process: let source loaders take unchanged code from this cache."""
        original = importlib.machinery.SourceFileLoader.get_code
        cache = self

        def get_code(self: importlib.machinery.SourceFileLoader, fullname: str) -> Any:
            return cache.lookup(self.get_filename(fullname)) or original(self, fullname)

        importlib.machinery.SourceFileLoader.get_code = get_code  # type: ignore[method-assign,assignment]


class Preloader:
    """Fork-server side: import modules app processes used, until any import starts a thread."""

    def __init__(self, cache: CodeCache) -> None:
        self.cache = cache
        self.enabled = threading.active_count() == 1

    def handle(self, message: Message) -> bool:
        """`mod NAME` imports a module; `src PATH` compiles a project file. True if a module was imported."""
        value = message.fields[0]
        if message.signal is Signal.SRC:
            self.cache.add(value)
        elif message.signal is Signal.MOD and self.enabled and value not in sys.modules:
            try:
                importlib.import_module(value)
            except BaseException:  # noqa: BLE001 - a module that fails here is the app's to report
                return False
            self.enabled = threading.active_count() == 1  # never fork with threads running
            return True
        return False


def report_imports(fd: int, inherited: set[str], project_dirs: tuple[Path, ...]) -> None:
    """App-process side: tell the fork server about new outside modules and the project's sources."""
    lines: list[bytes] = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        try:
            if origin and _is_project_file(origin, project_dirs):
                if origin.endswith(".py"):
                    lines.append(encode(Signal.SRC, origin))
            elif name not in inherited and not name.startswith(("__main__", "tornado_kit")):
                lines.append(encode(Signal.MOD, name))
        except ValueError:
            continue  # a path with a line break in it: not worth caching
    for line in lines:
        try:
            os.write(fd, line)  # one short write per line: atomic on a pipe
        except OSError:
            return


def _is_project_file(origin: str, project_dirs: tuple[Path, ...]) -> bool:
    path = Path(origin)
    if "site-packages" in path.parts or "dist-packages" in path.parts:
        return False
    return any(folder in path.parents for folder in project_dirs)
