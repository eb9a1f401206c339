"""Terminal output: colour only on a terminal, never when NO_COLOR is set (https://no-color.org)."""

from __future__ import annotations

import os
import sys
from typing import IO, Any

import click


def colour_enabled(stream: IO[str] | None = None) -> bool:
    """True when `stream` is a terminal and the user has not asked for no colour."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def style(text: str, stream: IO[str] | None = None, **styles: Any) -> str:
    """`click.style` when colour is enabled for `stream`, plain text otherwise."""
    return click.style(text, **styles) if colour_enabled(stream) else text


def status(message: str, **styles: Any) -> None:
    """Print a status line to stderr (stdout is kept for generated text)."""
    click.echo(style(message, sys.stderr, **styles), err=True)


def warn(message: str) -> None:
    """Print a one-line warning to stderr."""
    status(f"Warning: {message}", fg="yellow")
