"""`--deploy` checks of the nginx files `tkit deploy-config` wrote (or any hand-written ones)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext
from tornado_kit.check.nginx import Directive, NginxFile

REQUIRED_PROXY_HEADERS = ("Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto")
SIZE = re.compile(r"(?P<number>\d+)(?P<unit>[kKmMgG]?)")
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
NGINX_DEFAULT_BODY_SIZE = "1m"


def proxy_locations(nginx: NginxFile) -> Iterator[Directive]:
    """Every location that proxies to the app."""
    for directive in nginx.walk():
        if directive.name == "location" and directive.children("proxy_pass"):
            yield directive


def effective_proxy_headers(location: Directive) -> dict[str, str]:
    """The proxy_set_header set nginx uses here: the nearest level that sets any (no merging)."""
    level: Directive | None = location
    while level is not None:
        own = level.children("proxy_set_header")
        if own:
            return {d.args[0].lower(): " ".join(d.args[1:]) for d in own if d.args}
        level = level.parent
    return {}


@register(
    "nginx.E001",
    Level.ERROR,
    "Set proxy_set_header Host $host, X-Real-IP $remote_addr, X-Forwarded-For and X-Forwarded-Proto $scheme "
    "(once, in the server block).",
    deploy=True,
)
def proxy_headers_set(context: CheckContext) -> Iterator[str]:
    """Without them the app sees nginx's address and scheme, and the WebSocket origin check fails."""
    for nginx in context.nginx:
        for location in proxy_locations(nginx):
            headers = effective_proxy_headers(location)
            missing = [name for name in REQUIRED_PROXY_HEADERS if name.lower() not in headers]
            if missing:
                yield f"{nginx.where(location)}: location {' '.join(location.args)} does not set {', '.join(missing)}"


@register(
    "nginx.W002",
    Level.WARNING,
    "Add proxy_set_header X-Scheme $scheme; Tornado's xheaders prefers X-Scheme over X-Forwarded-Proto.",
    deploy=True,
)
def scheme_header_set(context: CheckContext) -> Iterator[str]:
    """A client-sent X-Scheme passes through unless nginx overwrites it, and Tornado believes it."""
    for nginx in context.nginx:
        for location in proxy_locations(nginx):
            if "x-scheme" not in effective_proxy_headers(location):
                yield f"{nginx.where(location)}: location {' '.join(location.args)} lets a client-sent X-Scheme through"


@register(
    "nginx.E003", Level.ERROR, "Use proxy_set_header Host $host (nginx-validated) instead of $http_host.", deploy=True
)
def no_http_host(context: CheckContext) -> Iterator[str]:
    """$http_host is whatever the client sent, unchecked (cache poisoning, password-reset links)."""
    for nginx in context.nginx:
        for directive in nginx.walk():
            if directive.name == "proxy_set_header" and any("$http_host" in arg for arg in directive.args[1:]):
                yield f"{nginx.where(directive)}: proxy_set_header {directive.args[0]} uses $http_host"


@register(
    "nginx.E004",
    Level.ERROR,
    "Write both with a trailing slash: location /static/ { alias /srv/app/static/; }",
    deploy=True,
)
def alias_slashes(context: CheckContext) -> Iterator[str]:
    """`location /static { alias /x/static/; }` serves /static../ from the folder above (path traversal)."""
    for nginx in context.nginx:
        for directive in nginx.walk():
            location = directive.parent
            if directive.name != "alias" or location is None or location.name != "location" or not directive.args:
                continue
            if location.args and location.args[0] in ("~", "~*"):
                continue  # a regex location uses captures; the slash rule does not apply
            prefix = location.args[-1] if location.args else ""
            if not (prefix.endswith("/") and directive.args[0].endswith("/")):
                yield (
                    f"{nginx.where(directive)}: location {prefix} with alias {directive.args[0]}: "
                    "both need a trailing slash"
                )


@register("nginx.W005", Level.WARNING, "Add `server_tokens off;` to each server block.", deploy=True)
def server_tokens_off(context: CheckContext) -> Iterator[str]:
    """The version in every error page and Server header tells attackers which CVEs to try."""
    for nginx in context.nginx:
        top_off = any(d.name == "server_tokens" and d.args == ["off"] for d in nginx.directives)
        for server in (d for d in nginx.walk() if d.name == "server" and d.block is not None):
            own = server.children("server_tokens")
            if (own and own[-1].args != ["off"]) or (not own and not top_off):
                yield f"{nginx.where(server)}: server_tokens is not off"


@register(
    "nginx.E006",
    Level.ERROR,
    "Give each WebSocket path a location that sets Upgrade and Connection proxy headers.",
    deploy=True,
)
def websocket_upgrade(context: CheckContext) -> Iterator[str]:
    """Without the upgrade headers every WebSocket handshake through nginx fails with 400."""
    paths = context.project.websocket_paths if context.project else ()
    for nginx in context.nginx:
        locations = [d for d in proxy_locations(nginx) if len(d.args) == 1]
        for path in paths:
            serving = max(
                (d for d in locations if path.startswith(d.args[0])), key=lambda d: len(d.args[0]), default=None
            )
            if serving is None:
                continue
            headers = effective_proxy_headers(serving)
            if "upgrade" not in headers or "connection" not in headers:
                yield f"{nginx.where(serving)}: WebSocket path {path} is proxied without Upgrade/Connection headers"


def size_in_bytes(text: str) -> int | None:
    """nginx size syntax (`1m`, `512k`, `1048576`) in bytes."""
    match = SIZE.fullmatch(text.strip())
    return int(match["number"]) * UNITS[match["unit"].lower()] if match else None


@register(
    "deploy.E002",
    Level.ERROR,
    "Make nginx client_max_body_size equal MAX_BODY_SIZE (tkit deploy-config writes it from the app's setting).",
    deploy=True,
)
def body_sizes_agree(context: CheckContext) -> Iterator[str]:
    """Two different limits mean confusing 413s from one side or bodies the app then refuses."""
    raw = context.env.get(
        "MAX_BODY_SIZE", ""
    )  # used when the app did not load; a value it refuses is skipped (app.E001)
    app_size = context.settings.get("max_body_size") or (int(raw) if raw.isascii() and raw.isdigit() else 0)
    if not app_size or not context.nginx:
        return
    for nginx in context.nginx:
        sizes = [d for d in nginx.walk() if d.name == "client_max_body_size" and d.args]
        for directive in sizes or [Directive("client_max_body_size", [NGINX_DEFAULT_BODY_SIZE], 0)]:
            nginx_size = size_in_bytes(directive.args[0])
            if nginx_size != app_size:
                where = nginx.where(directive) if directive.line else f"{nginx.path.name} (nginx default)"
                yield (
                    f"{where}: client_max_body_size {directive.args[0]} ({nginx_size} bytes) "
                    f"but the app's max_body_size is {app_size}"
                )


def upstream_targets(nginx: NginxFile) -> dict[tuple[str, int], str]:
    """(host, port) -> where, for every upstream server and direct proxy_pass to host:port."""
    targets: dict[tuple[str, int], str] = {}
    for directive in nginx.walk():
        target = ""
        if (
            directive.name == "server"
            and directive.parent is not None
            and directive.parent.name == "upstream"
            and directive.args
        ):
            target = directive.args[0]
        elif directive.name == "proxy_pass" and directive.args:
            target = directive.args[0].split("://", 1)[-1].split("/", 1)[0]
        host, sep, port = target.rpartition(":")
        if sep and port.isdecimal() and not host.startswith("unix"):
            targets[(host.strip("[]"), int(port))] = nginx.where(directive)
    return targets
