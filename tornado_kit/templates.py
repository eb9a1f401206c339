"""Where the shipped templates live: inside the installed wheel, or at the root of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def templates_root() -> Path:
    """The `templates/` folder (project skeleton and deploy files)."""
    installed = _PACKAGE_DIR / "templates"
    if installed.is_dir():
        return installed
    checkout = _PACKAGE_DIR.parent / "templates"
    if checkout.is_dir():
        return checkout
    raise RuntimeError(f"tornado-kit is installed without its templates (looked in {installed} and {checkout})")
