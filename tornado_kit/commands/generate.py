"""`tkit generate` (short: `tkit g`) page / resource / websocket NAME, and `tkit destroy` to take one out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tornado_kit.generate.run import Outcome

GENERATE_EPILOG = """\b
Examples:
  tkit generate page about             # /about, login required
  tkit g page pricing --public
  tkit g resource book title:str(200) pages:int published:date? notes:text
  tkit g resource cactus name:str(80) --plural cactuses
  tkit g websocket ticker
  tkit g page team --dry-run          # show files and diffs, write nothing

\b
Field types: str(N), text, int, float, bool, date, datetime; a trailing ? makes a field optional.
Exit status: 0 written, 1 refused (existing file, URL map tkit cannot edit), 2 invalid name or field.
"""


def _common(function: click.decorators.FC) -> click.decorators.FC:
    function = click.option("--force", is_flag=True, help="Overwrite existing files (each is listed).")(function)
    function = click.option("--dry-run", is_flag=True, help="List the files and show the diffs; write nothing.")(
        function
    )
    return function


@click.group(epilog=GENERATE_EPILOG)
def generate() -> None:
    """Add a page, a resource (table, JSON API, HTML pages) or a WebSocket to this project.

    Everything is wired into the URL map and comes with tests; pages and APIs need login unless
    --public. Written all-or-nothing: a failure leaves the project as it was.
    """


@generate.command()
@click.argument("name")
@click.option("--public", is_flag=True, help="No login required.")
@_common
def page(name: str, public: bool, dry_run: bool, force: bool) -> None:
    """A handler, a template on the base layout, a route at /NAME and a test."""
    from tornado_kit.generate.run import generate as run_generate

    report(run_generate("page", name, public=public, dry_run=dry_run, force=force), dry_run)


@generate.command()
@click.argument("name")
@click.argument("fields", nargs=-1, required=True, metavar="FIELD:TYPE...")
@click.option("--plural", help="The plural of NAME when English rules get it wrong (person -> people is known).")
@click.option("--no-auth", "public", is_flag=True, help="Records are shared by everyone, no login required.")
@_common
def resource(name: str, fields: tuple[str, ...], plural: str | None, public: bool, dry_run: bool, force: bool) -> None:
    """A table and its migration, queries, a JSON API, HTML pages and tests."""
    from tornado_kit.generate.run import generate as run_generate

    outcome = run_generate("resource", name, fields=fields, plural=plural, public=public, dry_run=dry_run, force=force)
    report(outcome, dry_run)


@generate.command()
@click.argument("name")
@click.option("--public", is_flag=True, help="No login required.")
@_common
def websocket(name: str, public: bool, dry_run: bool, force: bool) -> None:
    """A WebSocket handler under the WebSocket prefix, a page, a reconnecting client and a test."""
    from tornado_kit.generate.run import generate as run_generate

    report(run_generate("websocket", name, public=public, dry_run=dry_run, force=force), dry_run)


g = click.Group("g", commands=generate.commands, help="Short for `tkit generate`.", epilog=GENERATE_EPILOG)


@click.command(epilog="\b\nExamples:\n  tkit destroy page about\n  tkit destroy websocket ticker --dry-run")
@click.argument("kind", type=click.Choice(["page", "resource", "websocket"]))
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
def destroy(kind: str, name: str, dry_run: bool) -> None:
    """Take out a generated page, resource or websocket.

    Files unchanged since `tkit generate` wrote them are deleted and its URL-map lines taken out;
    files you changed are kept and listed; a migration that may have run is kept and named.
    """
    from tornado_kit.generate.run import destroy as run_destroy

    report(run_destroy(kind, name, dry_run=dry_run), dry_run)  # type: ignore[arg-type]


def report(outcome: Outcome, dry_run: bool) -> None:
    """Each file created, changed or deleted (with diffs on a dry run); kept files and notes on stderr."""
    from tornado_kit.console import warn

    verbs = {"create": "create", "overwrite": "modify", "identical": "identical"}
    if dry_run:
        click.echo("Dry run, nothing written:")
    for action in outcome.actions:
        click.echo(f"  {verbs.get(action.verb, action.verb):<9} {action.path}")
        diff = outcome.diff(str(action.path)) if dry_run else None
        if diff:
            click.echo(diff.rstrip("\n"))
    for path in outcome.deleted:
        click.echo(f"  {'delete':<9} {path}")
    for line in outcome.kept:
        warn(line)
    for line in outcome.notes:
        warn(line)
