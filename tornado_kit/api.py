"""The library behind the CLI: each function does one command's job and raises TkitError on failure."""

from __future__ import annotations

import secrets
from pathlib import Path

from tornado_kit import __version__


def project_context(name: str, package: str, *, auth: bool = True, websocket: bool = True, redis: bool = False) -> dict[str, object]:
    """Everything the project skeleton is rendered with; the secret is new for every project."""
    return {
        "name": name,
        "package": package,
        "auth": auth,
        "websocket": websocket,
        "redis": redis,
        "cookie_secret": secrets.token_urlsafe(48),
        "tkit_version": __version__,
    }


def new_project(name: str, directory: Path, *, auth: bool = True, websocket: bool = True, redis: bool = False) -> list[Path]:
    """Write a new project into `directory` and return the paths written."""
    from tornado_kit.render import render_project

    package = name.replace("-", "_").lower()
    files = render_project(project_context(name, package, auth=auth, websocket=websocket, redis=redis))
    written = []
    for file in files:
        target = directory / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(file.content)
        target.chmod(file.mode)
        written.append(target)
    return written
