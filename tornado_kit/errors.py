"""One error hierarchy: the library raises these, only the CLI turns them into exit codes.

Exit codes: 0 success, 1 a refusal or failure (existing target, port in use, failed check),
2 bad input (an invalid name, option or value).
"""

from __future__ import annotations

import click


class TkitError(click.ClickException):
    """A failure the user can act on: printed as one line, no traceback."""

    exit_code = 1


class BadInput(TkitError):
    """Invalid user input (a name, an option value): exit status 2, like click's usage errors."""

    exit_code = 2


class ProjectNotFound(TkitError):
    """The command needs a tkit project and none was found."""


class TargetExists(TkitError):
    """Writing would touch files that already exist and --force was not given."""
