"""Which file changes mean "reload": a path filter, two watch backends behind one base, and a debouncer.

The watchdog backend subscribes only to the event types that mean a change (close-after-write,
create, move, delete), on the project's own folders: watching sys.path with every event type
overflows the inotify queue and then nothing reloads at all.
"""

from __future__ import annotations

import abc
import asyncio
import enum
import fnmatch
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

IGNORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        "node_modules",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".idea",
        ".vscode",
        "var",
        "build",
        "dist",
        "site-packages",
        "htmlcov",
        ".eggs",
    }
)
IGNORED_FILE_GLOBS = (
    "*.pyc",
    "*.pyo",
    "*.swp",
    "*.swo",
    "*.swx",
    "*~",
    ".#*",
    "#*#",
    "*.tmp",
    "*.bak",
    "*.orig",
    "4913",
    ".DS_Store",
    "*.sqlite",
    "*.sqlite3",
    "*.db",
    "*.sqlite3-*",
    "*.db-*",
    "*-wal",
    "*-shm",
    "*-journal",
    "*.log",
)
WATCHED_NAMES = ("*.py", ".env")
STYLESHEET_NAMES = ("*.css",)
PAGE_NAMES = ("*.html", "*.htm", "*.jinja", "*.jinja2", "*.j2", "*.js", "*.mjs")


class Change(enum.Enum):
    """What a changed file asks of the dev server."""

    RESTART = "restart"  # Python code or settings: a new app process, then open tabs reload
    PAGE = "page"  # a template or a script: open tabs reload (templates are read per request)
    STYLESHEET = "stylesheet"  # open tabs swap the stylesheet in place


ChangeCallback = Callable[[Path], None]


@dataclass(frozen=True)
class PathFilter:
    """Decides which paths under the project count as source changes."""

    root: Path
    extra: tuple[Path, ...] = ()
    ignore_globs: tuple[str, ...] = ()
    watched_names: tuple[str, ...] = field(default=WATCHED_NAMES)
    live: bool = False  # also report templates, scripts and stylesheets (live reload in the browser)

    def ignores_dir(self, directory: Path) -> bool:
        """True for folders never worth watching: VCS, caches, virtual environments, var/."""
        name = directory.name
        if name in IGNORED_DIRS or name.endswith(".egg-info") or (directory / "pyvenv.cfg").exists():
            return True
        return self._matches_user_glob(directory)

    def wants(self, path: Path) -> bool:
        """True when a change to `path` should reload the app (or, with live reload, the browser)."""
        return self.classify(path) is not None

    def classify(self, path: Path) -> Change | None:
        """What a change to `path` asks for; None when it is not watched."""
        if self._ignored(path):
            return None
        if self.live and _matches(path, STYLESHEET_NAMES):
            return Change.STYLESHEET
        if self.live and _matches(path, PAGE_NAMES):
            return Change.PAGE
        if any(_is_within(path, extra) for extra in self.extra) or _matches(path, self.watched_names):
            return Change.RESTART
        return None

    def _ignored(self, path: Path) -> bool:
        base = self._base_for(path)
        relative = path.relative_to(base) if base else Path(path.name)
        if any(part in IGNORED_DIRS or part.endswith(".egg-info") for part in relative.parts[:-1]):
            return True
        if base and any((parent / "pyvenv.cfg").exists() for parent in path.parents if base in parent.parents):
            return True  # a virtual environment under any name
        if any(fnmatch.fnmatchcase(path.name, pattern) for pattern in IGNORED_FILE_GLOBS):
            return True
        return self._matches_user_glob(path)

    def _matches_user_glob(self, path: Path) -> bool:
        base = self._base_for(path)
        relative = str(path.relative_to(base)) if base else path.name
        return any(fnmatch.fnmatch(path.name, g) or fnmatch.fnmatch(relative, g) for g in self.ignore_globs)

    def _base_for(self, path: Path) -> Path | None:
        for base in (self.root, *self.extra):
            if _is_within(path, base):
                return base
        return None


def _matches(path: Path, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(path.name, pattern) for pattern in patterns)


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


class Watcher(abc.ABC):
    """A watch strategy: the base filters and reports; subclasses find out what changed."""

    name = "watcher"

    def __init__(self, path_filter: PathFilter) -> None:
        self.filter = path_filter
        self._callback: ChangeCallback | None = None

    def start(self, callback: ChangeCallback) -> None:
        """Begin calling `callback(path)` (from any thread) for each wanted change."""
        self._callback = callback
        self._start()

    @abc.abstractmethod
    def _start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop watching and release threads and OS handles."""

    def _report(self, path: Path) -> None:
        if self._callback is not None and self.filter.wants(path):
            self._callback(path)

    def roots(self) -> list[tuple[Path, bool]]:
        """(folder, recursive) pairs: the root itself, its non-ignored subfolders, and extras."""
        pairs: list[tuple[Path, bool]] = [(self.filter.root, False)]
        for entry in sorted(self.filter.root.iterdir()):
            if entry.is_dir() and not entry.is_symlink() and not self.filter.ignores_dir(entry):
                pairs.append((entry, True))
        for extra in self.filter.extra:
            if not _is_within(extra, self.filter.root):
                pairs.append((extra, extra.is_dir()) if extra.is_dir() else (extra.parent, False))
        return pairs


class WatchdogWatcher(Watcher):
    """OS file events (inotify on Linux): no polling, idle CPU near zero."""

    name = "inotify" if sys.platform.startswith("linux") else "watchdog"

    def __init__(self, path_filter: PathFilter) -> None:
        super().__init__(path_filter)
        self._observer: object | None = None

    def _start(self) -> None:
        from watchdog.events import FileSystemEvent, FileSystemEventHandler
        from watchdog.observers import Observer

        report = self._report

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event: FileSystemEvent) -> None:
                for raw in (event.src_path, getattr(event, "dest_path", "")):
                    if raw:
                        report(Path(os.fsdecode(raw)))

        observer = Observer()
        handler = Handler()
        for folder, recursive in self.roots():
            observer.schedule(handler, str(folder), recursive=recursive, event_filter=_change_events())
        observer.daemon = True
        observer.start()
        self._observer = observer

    def stop(self) -> None:
        observer = self._observer
        if observer is not None:
            observer.stop()  # type: ignore[attr-defined]
            observer.join(timeout=2)  # type: ignore[attr-defined]
            self._observer = None


def _change_events() -> list[type]:
    """Only the event types that mean content changed (never opens, reads or attribute changes)."""
    from watchdog import events

    kinds: list[type] = [
        events.FileCreatedEvent,
        events.FileDeletedEvent,
        events.FileMovedEvent,
        events.DirDeletedEvent,
        events.DirMovedEvent,
        events.FileClosedEvent,
    ]
    if not sys.platform.startswith("linux"):
        kinds.append(events.FileModifiedEvent)  # close-write events exist only on inotify
    return kinds


class PollingWatcher(Watcher):
    """Stat polling, for file systems without change events (network mounts, some containers)."""

    name = "polling"

    def __init__(self, path_filter: PathFilter, interval: float = 0.3) -> None:
        super().__init__(path_filter)
        self.interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def _start(self) -> None:
        snapshot = self.snapshot()
        self._thread = threading.Thread(target=self._run, args=(snapshot,), name="tkit-poll", daemon=True)
        self._thread.start()

    def _run(self, previous: dict[Path, tuple[int, int]]) -> None:
        while not self._stopped.wait(self.interval):
            current = self.snapshot()
            for path in sorted(set(previous) | set(current)):
                if previous.get(path) != current.get(path):
                    self._report(path)
            previous = current

    def snapshot(self) -> dict[Path, tuple[int, int]]:
        """(mtime_ns, size) of every wanted file under the watched folders."""
        result: dict[Path, tuple[int, int]] = {}
        for path in self._walk():
            try:
                info = path.stat()
            except OSError:
                continue
            result[path] = (info.st_mtime_ns, info.st_size)
        return result

    def _walk(self) -> Iterator[Path]:
        for folder, recursive in self.roots():
            yield from self._files_in(folder, recursive)

    def _files_in(self, folder: Path, recursive: bool) -> Iterator[Path]:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                if recursive and not self.filter.ignores_dir(path):
                    yield from self._files_in(path, True)
            elif self.filter.wants(path):
                yield path

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=2)


def start_watcher(path_filter: PathFilter, callback: ChangeCallback, poll: bool = False) -> tuple[Watcher, str | None]:
    """Start inotify/watchdog, else polling (forced by --poll or TKIT_POLL=1); return it and any warning."""
    if poll or os.environ.get("TKIT_POLL") == "1":
        watcher: Watcher = PollingWatcher(path_filter)
        watcher.start(callback)
        return watcher, None
    watcher = WatchdogWatcher(path_filter)
    try:
        watcher.start(callback)
        return watcher, None
    except (OSError, ImportError) as exc:
        watcher.stop()
        fallback = PollingWatcher(path_filter)
        fallback.start(callback)
        return fallback, f"file events unavailable ({exc}); polling for changes instead"


class Debouncer:
    """Collects a burst of changes (an editor's save, a git checkout) into one batch on the event loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        on_batch: Callable[[list[Path], float], None],
        quiet: float = 0.008,
        longest: float = 0.25,
    ) -> None:
        self.loop = loop
        self.on_batch = on_batch
        self.quiet = quiet
        self.longest = longest
        self._paths: dict[Path, None] = {}
        self._first: float = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def add_threadsafe(self, path: Path) -> None:
        """Callable from a watcher thread."""
        self.loop.call_soon_threadsafe(self.add, path, time.monotonic())

    def add(self, path: Path, when: float | None = None) -> None:
        """Record a change; the batch fires once no change came for `quiet` s (or after `longest` s)."""
        now = time.monotonic() if when is None else when
        if not self._paths:
            self._first = now
        self._paths[path] = None
        if self._timer is not None:
            self._timer.cancel()
        delay = min(self.quiet, max(0.0, self._first + self.longest - time.monotonic()))
        self._timer = self.loop.call_later(delay, self._fire)

    def _fire(self) -> None:
        paths, first = list(self._paths), self._first
        self._paths.clear()
        self._timer = None
        self.on_batch(paths, first)

    def cancel(self) -> None:
        """Drop any pending batch."""
        if self._timer is not None:
            self._timer.cancel()
        self._paths.clear()


def describe_roots(watcher: Watcher, relative_to: Path) -> list[str]:
    """Short names of the watched folders, for the banner."""
    names: list[str] = []
    for folder, _ in watcher.roots():
        try:
            shown = str(folder.relative_to(relative_to)) or "."
        except ValueError:
            shown = str(folder)
        names.append(shown if shown == "." else shown + "/")
    return names
