"""The `tkit` command group. Each command lives in tornado_kit/commands/ and imports its heavy
dependencies (tornado, jinja2, watchdog) inside its body, so `tkit --help` stays fast."""

from __future__ import annotations

import click

from tornado_kit import __version__
from tornado_kit.commands import COMMANDS

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="tkit")
def main() -> None:
    """Scaffold, serve and deploy Tornado web services.

    \b
    Start a project and run it with a reloading dev server:
      tkit new mysite
      cd mysite && tkit serve --reload

    \b
    Shell completion (bash; zsh and fish work the same way):
      eval "$(_TKIT_COMPLETE=bash_source tkit)"
    """


for command in COMMANDS:
    main.add_command(command)
