"""The one app loader of `tkit serve`, `tkit check` and `tkit routes`: find the app, then import and build it.

An app spec is `module:attribute`. The attribute is a factory called with no arguments (a generated
project's `make_app`, which reads its settings from the environment and `.env` in its working directory),
or an `Application` instance. Two steps:

- `find_app(--app or None)` -> AppTarget: the spec (`--app`, else the project's `[tool.tkit] app`), the
  project around the working directory (found once; None only for `--app` outside a project) and the
  folder the app runs in and is imported from: the project root, or the current directory with `--app`.
- `load_app(spec, folder)` imports and builds it. Call it inside a running event loop (factories may
  start periodic tasks) with the working directory set (`working_directory`, or `load_app_in_loop`
  which does both). Whatever goes wrong (an import or syntax error, an exception or SystemExit in the
  factory, a missing attribute, a factory that returns something else) is one AppLoadError that says why,
  with the original exception as its `__cause__` for callers that show the traceback (the dev server).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from tornado_kit.errors import BadInput, ProjectNotFound, TkitError
from tornado_kit.project import Project, find_project

if TYPE_CHECKING:
    import tornado.web

T = TypeVar("T")


class AppLoadError(TkitError):
    """The app could not be imported or built; `reason` is the failure alone, the message adds the spec."""

    def __init__(self, spec: str, reason: str) -> None:
        super().__init__(f"cannot load the app {spec}: {reason}")
        self.spec = spec
        self.reason = reason


@dataclass(frozen=True)
class AppTarget:
    """Which app to load and where: `folder` is both its working directory and first on sys.path."""

    spec: str
    folder: Path
    project: Project | None

    @property
    def project_root(self) -> Path | None:
        """The root of the project around the app, if there is one."""
        return self.project.root if self.project is not None else None


def find_app(app: str | None, start: Path | None = None) -> AppTarget:
    """`--app` as given (run from `start`, default the cwd) or the project's app (run from its root)."""
    here = (start or Path.cwd()).resolve()
    if app and (":" not in app or not all(app.split(":", 1))):
        raise BadInput(f"--app must look like module:factory, got {app!r}")
    try:
        project: Project | None = find_project(here)
    except ProjectNotFound:
        if not app:
            raise
        project = None
    if app:
        return AppTarget(app, here, project)
    assert project is not None
    return AppTarget(project.app, project.root, project)


def load_app(spec: str, folder: Path) -> tornado.web.Application:
    """Import `module:attribute` with `folder` first on sys.path and build the app; AppLoadError says why not."""
    try:
        target = _import_attribute(spec, folder)
        return _build(spec, target)
    except AppLoadError:
        raise
    except (Exception, SystemExit) as exc:  # any failure of the user's code is one error
        raise AppLoadError(spec, f"{type(exc).__name__}: {exc}".strip().rstrip(":")) from exc


def _import_attribute(spec: str, folder: Path) -> Any:
    module_name, _, attribute = spec.partition(":")
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise AppLoadError(spec, f"{module_name} has no attribute {attribute!r}") from None


def _build(spec: str, target: Any) -> tornado.web.Application:
    import tornado.web  # here: `tkit --help` must not import Tornado (measured: 0.3 s or more here)

    app = target if isinstance(target, tornado.web.Application) else target()
    if not isinstance(app, tornado.web.Application):
        raise AppLoadError(spec, f"the app factory returned {type(app).__name__}, not a tornado.web.Application")
    return app


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run the block in `path` (the app reads `.env` from its working directory), then go back."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def load_app_in_loop(target: AppTarget, use: Callable[[tornado.web.Application], T]) -> T:
    """Build the app inside a running loop, in its folder, and return `use(app)`."""

    async def run() -> T:
        with working_directory(target.folder):
            return use(load_app(target.spec, target.folder))

    return asyncio.run(run())
