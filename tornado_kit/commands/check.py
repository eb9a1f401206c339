"""`tkit check [--deploy]`: audit the app, its settings and its nginx/supervisor files."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tornado_kit.console import colour_enabled

LEVELS = ("info", "warning", "error")


@click.command()
@click.option("--deploy", is_flag=True, help="Add the production checks: settings, .env, nginx and supervisor files.")
@click.option(
    "--app", "app_spec", metavar="MODULE:FACTORY", help="The app factory (default: the project's [tool.tkit] app)."
)
@click.option(
    "--deploy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder with nginx/ and supervisor/ (default: ./deploy).",
)
@click.option(
    "--fail-level",
    type=click.Choice(LEVELS),
    default="error",
    show_default=True,
    help="Exit 1 when a finding is at this level or above.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def check(deploy: bool, app_spec: str | None, deploy_dir: Path | None, fail_level: str, as_json: bool) -> None:
    """Run Django-style checks with stable ids (like security.E001) on the project.

    Without --deploy: the app loads, templates compile, forms carry the XSRF field, WebSocket
    handlers check the origin, routes are all reachable. With --deploy: debug and secrets,
    cookie flags, limits, and the files `tkit deploy-config` wrote (nginx -t and gixy included
    when installed). Exit status 1 when an error is found (or a warning, with --fail-level warning).
    Secret values are never printed.

    \b
    Examples:
      tkit check
      tkit check --deploy
      tkit check --deploy --fail-level warning --json
    """
    # The checks import Tornado (measured 0.3 s or more): only here, so `tkit --help` stays fast.
    from tornado_kit.check.base import Level
    from tornado_kit.check.runner import enforce, report_json, report_text, run_checks

    report = run_checks(app_spec, deploy, deploy_dir)
    click.echo(report_json(report) if as_json else report_text(report, styled=colour_enabled(sys.stdout)))
    enforce(report, Level[fail_level.upper()])
