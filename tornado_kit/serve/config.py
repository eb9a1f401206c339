"""Validate `tkit serve` options once and bind the listening socket the whole session keeps."""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass
from pathlib import Path

from tornado_kit.errors import TkitError


class PortInUse(TkitError):
    """Another process already listens on the requested address."""


@dataclass(frozen=True)
class ServeConfig:
    """Everything `tkit serve` needs, resolved: app, folders, address, watch options."""

    app_spec: str
    import_root: Path
    watch_root: Path
    workdir: Path
    project_root: Path | None
    package: str | None
    host: str = "127.0.0.1"
    port: int = 8000
    reload: bool = True
    poll: bool = False
    watch: tuple[Path, ...] = ()
    ignore: tuple[str, ...] = ()
    live_reload: bool = True  # browser tabs follow the code; only with reload on (--no-reload implies off)

    @property
    def url(self) -> str:
        """The address to open in a browser."""
        host = self.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    @property
    def public(self) -> bool:
        """True when the server listens beyond loopback."""
        return self.host not in ("127.0.0.1", "localhost", "::1") and not self.host.startswith("127.")


def make_config(
    app: str | None,
    cwd: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    reload: bool = True,
    poll: bool = False,
    watch: tuple[Path, ...] = (),
    ignore: tuple[str, ...] = (),
    live_reload: bool = True,
) -> ServeConfig:
    """Find the app: `--app module:factory` (imported from the cwd) or the project's `[tool.tkit] app`."""
    from tornado_kit.appload import find_app

    target = find_app(app, cwd)
    return ServeConfig(
        app_spec=target.spec,
        import_root=target.folder,
        watch_root=target.project_root or target.folder,
        workdir=target.folder,
        project_root=target.project_root,
        package=target.project.package if target.project else None,
        host=host,
        port=port,
        reload=reload,
        poll=poll,
        watch=tuple(path.resolve() for path in watch),
        ignore=tuple(ignore),
        live_reload=live_reload and reload,
    )


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind and listen once; the socket outlives every app process. Port in use -> PortInUse."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise TkitError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} is already in use on {host}; stop the other server or choose another with --port"
            ) from None
        raise TkitError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock
