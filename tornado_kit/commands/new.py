"""`tkit new NAME [DIRECTORY]`: write a new Tornado project."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("name")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def new(name: str, directory: Path | None) -> None:
    """Create a new Tornado project called NAME in DIRECTORY (default: ./NAME)."""
    from tornado_kit.api import new_project

    new_project(name, directory or Path(name))
