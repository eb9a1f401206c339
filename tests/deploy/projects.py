"""Small tkit projects on disk for deploy tests: just what `tkit deploy-config` reads."""

from __future__ import annotations

from pathlib import Path

PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"

[tool.tkit]
package = "{name}"
app = "{name}.app:make_app"
websocket-paths = {ws}
static-dir = "{name}/static"
static-url = "/static/"
"""


def make_project(root: Path, name: str = "mysite", env: str = "", websocket: bool = True) -> Path:
    """Write a minimal project (pyproject.toml, .env, static folder) at `root` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    ws = '["/ws/"]' if websocket else "[]"
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name, ws=ws), encoding="utf-8")
    (root / ".env").write_text("COOKIE_SECRET=" + "x" * 40 + "\n" + env, encoding="utf-8")
    (root / name / "static").mkdir(parents=True, exist_ok=True)
    return root
