"""What the dev server prints: the banner, one line per reload, process events (all to stderr)."""

from __future__ import annotations

import sys
from pathlib import Path

from tornado_kit import __version__
from tornado_kit.console import colour_enabled, status, style, warn

__all__ = ["warn"]
from tornado_kit.serve.config import ServeConfig


def banner(config: ServeConfig, watching: str | None) -> None:
    """URL, version, app, and what is watched (or that reload is off)."""
    url = style(config.url, sys.stderr, bold=True, underline=True)
    if colour_enabled(sys.stderr):
        url = f"\x1b]8;;{config.url}\x1b\\{url}\x1b]8;;\x1b\\"  # OSC 8: a clickable link in terminals that know it
    status(f"tkit {__version__} dev server: {config.app_spec}")
    status(f"  Listening on {url}")
    status(f"  {watching}" if watching else "  Reload off (--no-reload): restart to see code changes")
    if config.live_reload:
        status("  Live reload on: open tabs follow your saves (--no-live-reload turns it off)")
    status("  Press Ctrl-C to stop")
    if config.public:
        warn(f"--host {config.host} makes the dev server reachable from the network, tracebacks included")


def watching_line(kind: str, folders: list[str], extra_globs: tuple[str, ...]) -> str:
    """`Reload on: watching ., mysite/ (*.py, .env) with inotify`."""
    shown = ", ".join(folders[:6]) + (f" and {len(folders) - 6} more" if len(folders) > 6 else "")
    ignoring = f"; also ignoring {', '.join(extra_globs)}" if extra_globs else ""
    return f"Reload on: watching {shown} (*.py, .env) with {kind}{ignoring}"


def changed_names(paths: list[Path], root: Path) -> str:
    """The changed files, relative to the project, at most three named."""
    names = []
    for path in paths:
        try:
            names.append(str(path.relative_to(root)))
        except ValueError:
            names.append(str(path))
    more = f" (+{len(names) - 3} more)" if len(names) > 3 else ""
    return ", ".join(names[:3]) + more


def reloaded(names: str, took_ms: float, pid: int, broken: bool, tabs: int = 0) -> None:
    """One line per reload: what changed, how long, which process serves now, how many tabs follow."""
    following = f"; reloading {_tabs(tabs)}" if tabs else ""
    if broken:
        status(f"{names} changed: the app failed to load, serving the error page [pid {pid}]{following}", fg="red")
    else:
        status(f"Reloaded {names} in {took_ms:.0f} ms [pid {pid}]{following}", fg="green")


def tabs_reloaded(names: str, tabs: int) -> None:
    """A template or script changed: the open tabs reload (the app process stays)."""
    status(f"{names} changed: reloading {_tabs(tabs)}", fg="green")


def stylesheets_swapped(names: str, tabs: int) -> None:
    """A stylesheet changed: the open tabs swap it in place."""
    status(f"{names} changed: updated in place in {_tabs(tabs)}", fg="green")


def _tabs(count: int) -> str:
    return f"{count} tab" if count == 1 else f"{count} tabs"


def started(took_ms: float, pid: int, broken: bool) -> None:
    """The first app process is up."""
    if broken:
        status(f"The app failed to load: serving the error page until a save fixes it [pid {pid}]", fg="red")
    else:
        status(f"Ready in {took_ms:.0f} ms [pid {pid}]", fg="green")


def migrations(message: str) -> None:
    """What bringing the development database to head did (`migrated the database from 0001 to 0002`)."""
    status(f"tkit serve: {message}", fg="red" if message.startswith("migrations not applied") else None)


def crashed(pid: int, code: int, delay: float) -> None:
    """An app process died on its own."""
    status(f"The app process {pid} exited with status {code}; restarting in {delay:g} s", fg="red")


def failure(message: str) -> None:
    """A dev-server failure that ends the session."""
    status(f"Error: {message}", fg="red")


def startup_crash(pid: int, code: int) -> None:
    """A new app process died before serving; the previous one keeps serving."""
    status(f"The new app process {pid} exited with status {code} before serving; fix the code and save again", fg="red")
