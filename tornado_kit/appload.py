"""Find and import a project's Tornado app factory, as `tkit serve`, `tkit routes` and `tkit check` do.

An app spec is `module:attribute`. The attribute is a factory called with no arguments (a generated
project's `make_app`, which reads its settings from the environment and `.env`), or an
`Application` instance. Call `build_app` inside a running event loop: factories may start
periodic tasks.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tornado_kit.errors import BadInput, ProjectNotFound, TkitError
from tornado_kit.project import find_project

if TYPE_CHECKING:
    import tornado.web

    from tornado_kit.project import Project


class AppLoadError(TkitError):
    """The app could not be imported or built; the message names the spec."""


def resolve_app_spec(app: str | None, start: Path | None = None) -> tuple[str, Path]:
    """Return the app spec and the folder to import it from: `--app` as given, else the project's."""
    if app:
        if ":" not in app or not all(app.split(":", 1)):
            raise BadInput(f"--app must look like module:factory, got {app!r}")
        return app, (start or Path.cwd()).resolve()
    project = find_project(start)
    return project.app, project.root


def resolve_app_and_project(app: str | None, start: Path | None = None) -> tuple[str, Path, Project | None]:
    """`resolve_app_spec` plus the project around `start` (None only for `--app` outside a project), found once."""
    try:
        project = find_project(start)
    except ProjectNotFound:
        if not app:
            raise
        project = None
    if app or project is None:
        return (*resolve_app_spec(app, start), project)
    return project.app, project.root, project


def import_factory(spec: str, root: Path) -> Any:
    """Import `module:attribute` with `root` first on sys.path; errors keep their cause."""
    module_name, _, attribute = spec.partition(":")
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AppLoadError(f"{module_name} has no attribute {attribute!r} (from app spec {spec!r})") from None


def build_app(target: Any) -> tornado.web.Application:
    """Call the factory (or take the Application as it is) and check what it returned."""
    import tornado.web

    app = target if isinstance(target, tornado.web.Application) else target()
    if not isinstance(app, tornado.web.Application):
        raise AppLoadError(f"the app factory returned {type(app).__name__}, not a tornado.web.Application")
    return app
