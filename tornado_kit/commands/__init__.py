"""The tkit commands, one module each; every module imports only click at import time."""

from __future__ import annotations

import click

from tornado_kit.commands.new import new

COMMANDS: list[click.Command] = [new]
