"""The tkit commands, one module each; every module imports only click at import time."""

from __future__ import annotations

import click

from tornado_kit.commands.check import check
from tornado_kit.commands.deploy_config import deploy_config
from tornado_kit.commands.generate import destroy, g, generate
from tornado_kit.commands.new import new
from tornado_kit.commands.routes import routes
from tornado_kit.commands.serve import serve

COMMANDS: list[click.Command] = [new, serve, deploy_config, routes, check, generate, g, destroy]
