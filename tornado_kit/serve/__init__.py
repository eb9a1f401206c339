"""`tkit serve`: the reloading dev server (parent holds the socket, a fork server makes app processes)."""

from __future__ import annotations

import asyncio
import os
import socket

from tornado_kit.errors import TkitError
from tornado_kit.serve.config import ServeConfig, bind_socket, make_config

__all__ = ["ServeConfig", "make_config", "run_dev_server"]


def run_dev_server(config: ServeConfig) -> int:
    """Bind the port (PortInUse if taken), then serve with or without reloading; return the exit status."""
    if config.reload and not hasattr(os, "fork"):
        raise TkitError("reloading needs os.fork (Linux, macOS, WSL); run `tkit serve --no-reload` here")
    sock = bind_socket(config.host, config.port)
    _migrate(config)
    if config.reload:
        from tornado_kit.serve.reloader import Reloader

        return asyncio.run(Reloader(config, sock).run())
    return _serve_without_reload(config, sock)


def _migrate(config: ServeConfig) -> None:
    """Bring the development database up to date before any app process starts, and say so in one line."""
    from tornado_kit.serve import output
    from tornado_kit.serve.migrations import apply_migrations

    message = asyncio.run(apply_migrations(config))
    if message is not None:
        output.migrations(message)


def _serve_without_reload(config: ServeConfig, sock: socket.socket) -> int:
    """One process serves the app, with the same banner and request log."""
    from tornado_kit.serve import output
    from tornado_kit.serve.child import AppTarget, run_in_process
    from tornado_kit.serve.protocol import Health

    output.banner(config, None)
    os.chdir(config.workdir)

    def on_ready(health: Health, took_ms: float) -> None:
        output.started(took_ms, os.getpid(), health is Health.BROKEN)

    run_in_process(sock, AppTarget(config.app_spec, config.import_root), on_ready)
    return 0
