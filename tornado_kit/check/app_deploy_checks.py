"""`--deploy` checks that read the app's code and handlers: cookie flags, WebSocket limits, body size."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tornado_kit.check.app_checks import probe_instance, websocket_handlers
from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext

COOKIE_SETTERS = ("set_cookie", "set_signed_cookie", "set_secure_cookie")
TORNADO_DEFAULT_MESSAGE_SIZE = 10 * 1024 * 1024


def package_sources(context: CheckContext) -> list[Path]:
    """The project's Python files (its package folder), for static checks."""
    if context.project is None:
        return []
    folder = context.project.root / context.project.package
    return sorted(folder.rglob("*.py")) if folder.is_dir() else []


def cookie_calls(path: Path) -> Iterator[tuple[int, str, dict[str, ast.expr], bool]]:
    """(line, method, keyword arguments, has **kwargs) for each cookie-setting call in `path`."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in COOKIE_SETTERS:
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            yield node.lineno, node.func.attr, keywords, any(kw.arg is None for kw in node.keywords)


def missing_cookie_flags(keywords: dict[str, ast.expr], https: bool, signed: bool) -> list[str]:
    """The flags a cookie call leaves out (or sets to a literal False/None). Plain cookies may be
    meant for JavaScript, so HttpOnly is required only of signed (session-like) ones."""
    wanted = (["httponly"] if signed else []) + ["samesite"] + (["secure"] if https else [])
    missing = []
    for flag in wanted:
        value = keywords.get(flag)
        if value is None or (isinstance(value, ast.Constant) and not value.value):
            missing.append("HttpOnly" if flag == "httponly" else flag.capitalize() if flag == "secure" else "SameSite")
    return missing


@register(
    "security.E012",
    Level.ERROR,
    'Pass httponly=True (signed cookies), samesite="Lax" and (behind https) secure=True when setting cookies.',
    deploy=True,
)
def session_cookie_flags(context: CheckContext) -> Iterator[str]:
    """Tornado's cookie defaults are weak: no HttpOnly, no SameSite, no Secure."""
    https = context.flag("HTTPS")
    for path in package_sources(context):
        for line, method, keywords, has_kwargs in cookie_calls(path):
            missing = [] if has_kwargs else missing_cookie_flags(keywords, https, signed=method != "set_cookie")
            if missing:
                yield f"{path.relative_to(context.root)}:{line}: {method}() without {', '.join(missing)}"


@register(
    "security.E013",
    Level.ERROR,
    'Behind https set xsrf_cookie_kwargs={"secure": True, "samesite": "Lax"}.',
    deploy=True,
)
def xsrf_cookie_flags(context: CheckContext) -> Iterator[str]:
    """The _xsrf cookie must not travel over plain http once the site is https."""
    if context.app is None or not context.flag("HTTPS") or not context.settings.get("xsrf_cookies"):
        return
    kwargs = context.settings.get("xsrf_cookie_kwargs") or {}
    missing = [name for name in ("secure", "samesite") if not kwargs.get(name)]
    if missing:
        yield f"HTTPS=1 but xsrf_cookie_kwargs lacks {', '.join(missing)}"


@register(
    "websocket.W001",
    Level.WARNING,
    "Set websocket_max_message_size (chat needs a few KiB, not Tornado's 10 MiB).",
    deploy=True,
)
def websocket_message_limit(context: CheckContext) -> Iterator[str]:
    """A 10 MiB default lets any client make the server buffer 10 MiB per message."""
    for handler in websocket_handlers(context):
        size = getattr(probe_instance(context, handler), "max_message_size", None)
        if size is None or size >= TORNADO_DEFAULT_MESSAGE_SIZE:
            yield f"{handler.__qualname__}: max message size is {size} bytes (websocket_max_message_size unset)"


@register(
    "websocket.W002",
    Level.WARNING,
    "Set websocket_ping_interval (and websocket_ping_timeout) so dead peers are dropped.",
    deploy=True,
)
def websocket_pings(context: CheckContext) -> Iterator[str]:
    """Without pings a vanished client holds its connection (and memory) forever."""
    for handler in websocket_handlers(context):
        if not getattr(probe_instance(context, handler), "ping_interval", None):
            yield f"{handler.__qualname__}: no WebSocket pings (websocket_ping_interval unset)"


@register(
    "deploy.E001",
    Level.ERROR,
    "Keep max_body_size in app.settings and pass it to HTTPServer (a generated project's make_app does).",
    deploy=True,
)
def body_size_set(context: CheckContext) -> Iterator[str]:
    """Tornado's default request body limit is 100 MiB."""
    if context.app is not None and not context.settings.get("max_body_size"):
        yield "app.settings has no max_body_size: Tornado accepts 100 MiB request bodies"
