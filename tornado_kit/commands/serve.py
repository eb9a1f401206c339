"""`tkit serve`: run the project's app with a dev server that reloads on save."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "--reload/--no-reload",
    "reload",
    default=True,
    show_default=True,
    help="Restart the app when a watched file changes.",
)
@click.option(
    "--live-reload/--no-live-reload",
    "live_reload",
    default=True,
    show_default=True,
    help="Make open browser tabs follow the code (stylesheets in place, pages once the new code serves).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 exposes tracebacks to the network).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--app", "app", metavar="MODULE:FACTORY", help="App factory to serve instead of the project's [tool.tkit] app."
)
@click.option(
    "--watch",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Also reload when files under PATH change (repeatable).",
)
@click.option("--ignore", multiple=True, metavar="GLOB", help="Never reload for paths matching GLOB (repeatable).")
@click.option(
    "--poll", is_flag=True, help="Poll for changes instead of using file events (network mounts, some containers)."
)
def serve(
    reload: bool,
    live_reload: bool,
    host: str,
    port: int,
    app: str | None,
    watch: tuple[Path, ...],
    ignore: tuple[str, ...],
    poll: bool,
) -> None:
    """Serve the app on HOST:PORT and reload it on every save, without dropping a request.

    \b
    Examples:
      tkit serve                          # inside a project made by `tkit new`
      tkit serve --port 8080 --watch ../shared-lib
      tkit serve --app myapp:make_app     # any Tornado app factory
      tkit serve --no-reload              # one process, no watcher (and no live reload)
      tkit serve --no-live-reload         # reload the app, leave the browser alone
    """
    from tornado_kit.serve import make_config, run_dev_server

    config = make_config(
        app,
        Path.cwd(),
        host=host,
        port=port,
        reload=reload,
        poll=poll,
        watch=watch,
        ignore=ignore,
        live_reload=live_reload,
    )
    raise SystemExit(run_dev_server(config))
