"""Find the tkit project a command runs in, from the `[tool.tkit]` table of its pyproject.toml.

A generated project's pyproject.toml carries:

    [tool.tkit]
    package = "mysite"                  # the importable package
    app = "mysite.app:make_app"         # factory, called with no arguments inside a running loop
    websocket-paths = ["/ws/"]          # URL prefixes that are WebSockets (nginx upgrade)
    static-dir = "mysite/static"        # served by nginx in production, relative to the root
    static-url = "/static/"

The project does not have to be installed: its root goes on sys.path when the app is loaded.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import NamedTuple

from tornado_kit.errors import ProjectNotFound


class Project(NamedTuple):
    """A tkit project on disk (a NamedTuple: `tkit generate` runs without importing dataclasses, ~20 ms)."""

    root: Path
    name: str
    package: str
    app: str
    websocket_paths: tuple[str, ...] = ()
    static_dir: Path | None = None
    static_url: str = "/static/"

    @property
    def env_file(self) -> Path:
        """The project's settings file (secrets live here, never in git)."""
        return self.root / ".env"


def find_project(start: Path | None = None) -> Project:
    """Return the project whose pyproject.toml is at or above `start` (default: the cwd)."""
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            return load_project(directory)
    raise ProjectNotFound(
        f"no pyproject.toml with a [tool.tkit] table in {here} or its parents; "
        "run this inside a project made by `tkit new`, or pass --app"
    )


def load_project(root: Path) -> Project:
    """Read the `[tool.tkit]` table of `root/pyproject.toml`."""
    pyproject = root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProjectNotFound(f"cannot read {pyproject}: {exc}") from exc
    table = data.get("tool", {}).get("tkit")
    if not isinstance(table, dict) or "app" not in table or "package" not in table:
        raise ProjectNotFound(f"{pyproject} has no [tool.tkit] table with `app` and `package`; is this a tkit project?")
    return Project(
        root=root,
        name=str(data.get("project", {}).get("name", table["package"])),
        package=str(table["package"]),
        app=str(table["app"]),
        websocket_paths=tuple(str(p) for p in table.get("websocket-paths", ())),
        static_dir=root / table["static-dir"] if "static-dir" in table else None,
        static_url=str(table.get("static-url", "/static/")),
    )
