"""Load a project's app the way `tkit serve` does (from the project root, reading its `.env`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tornado_kit.appload import (
    AppLoadError,
    build_app,
    import_factory,
    resolve_app_spec,
)
from tornado_kit.errors import TkitError

if TYPE_CHECKING:
    import tornado.web

T = TypeVar("T")


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    """Run the block in `path` (the app reads `.env` from its cwd), then go back."""
    previous = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def load_app_in_loop(app_spec: str | None, use: Callable[[tornado.web.Application], T]) -> T:
    """Build the app inside a running loop, from its project root, and return `use(app)`."""
    spec, root = resolve_app_spec(app_spec)

    async def run() -> T:
        with working_directory(root):
            try:
                app = build_app(import_factory(spec, root))
            except TkitError:
                raise
            except Exception as exc:  # the user's code failed: one line, no traceback
                raise AppLoadError(f"cannot load the app {spec}: {type(exc).__name__}: {exc}") from exc
            return use(app)

    return asyncio.run(run())
