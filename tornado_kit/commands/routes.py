"""`tkit routes`: print the project's URL map as Tornado sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tornado_kit.console import warn

if TYPE_CHECKING:
    from tornado_kit.routes import Route

COLUMNS = ("pattern", "name", "handler", "methods", "login", "ws", "xsrf-exempt")


@click.command()
@click.option(
    "--app", "app_spec", metavar="MODULE:FACTORY", help="The app factory (default: the project's [tool.tkit] app)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts instead of a table.")
def routes(app_spec: str | None, as_json: bool) -> None:
    """Show every route: pattern, name, handler, methods, login, WebSocket, XSRF opt-out.

    Loads the app the way `tkit serve` does, without starting a server, and warns (on stderr)
    about routes that can never match because an earlier pattern takes all their paths, and
    about duplicate route names.

    \b
    Examples:
      tkit routes
      tkit routes --json | python -m json.tool
      tkit routes --app mysite.app:make_app
    """
    # Loading the app imports Tornado and asyncio (measured 0.3 s or more): only here, not for `tkit --help`.
    from tornado_kit.appload import find_app, load_app_in_loop
    from tornado_kit.routes import find_route_problems, list_routes

    rows = load_app_in_loop(find_app(app_spec), list_routes)
    problems = find_route_problems(rows)
    if as_json:
        import json  # here, not at module level: `tkit --help` need not pay for it

        payload = {
            "routes": [row.as_dict() for row in rows],
            "warnings": [{"kind": p.kind, "pattern": p.route.pattern, "message": p.message} for p in problems],
        }
        click.echo(json.dumps(payload, indent=2))
    else:
        click.echo(render_table(rows))
    for problem in problems:
        warn(problem.message)


def table_cells(row: Route) -> tuple[str, ...]:
    """The text of one table row."""
    return (
        row.pattern if row.host == "*" else f"{row.host} {row.pattern}",
        row.name or "-",
        row.handler,
        ",".join(row.methods) or "-",
        row.login,
        "yes" if row.websocket else "no",
        "yes" if row.xsrf_exempt else "no",
    )


def render_table(rows: list[Route]) -> str:
    """An aligned plain-text table with a header."""
    cells = [COLUMNS, *(table_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(text.ljust(width) for text, width in zip(line, widths)).rstrip() for line in cells)
