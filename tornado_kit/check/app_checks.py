"""Development checks (`tkit check`): the app loads, templates compile and protect their forms,
WebSocket handlers keep the origin check, routes all reachable."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tornado.httputil
import tornado.template
import tornado.websocket

from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext
from tornado_kit.routes import find_route_problems, iter_rules, list_routes

POST_FORM = re.compile(r"<form\b(?P<attrs>[^>]*)>(?P<body>.*?)</form\s*>", re.IGNORECASE | re.DOTALL)
POST_METHOD = re.compile(r"""method\s*=\s*["']?post""", re.IGNORECASE)
FOREIGN_ORIGIN = "https://tkit-check.invalid"
# A form carries the token through the module, a hand-written `_xsrf` field, or an included template.
XSRF_SIGNS = ("xsrf_form_html", "_xsrf", "{% include")


@register("app.E001", Level.ERROR, "Run `python -c 'import <package>.app'` in the project to see the full traceback.")
def app_loads(context: CheckContext) -> Iterator[str]:
    """The app factory imports and returns an Application."""
    if context.load_error:
        yield f"the app did not load: {context.load_error}"


def template_files(context: CheckContext) -> list[tuple[Path, str]]:
    """(template folder, relative name) for every .html template of the app."""
    folder = context.settings.get("template_path")
    if not folder:
        return []
    root = Path(folder)
    return [(root, path.relative_to(root).as_posix()) for path in sorted(root.rglob("*.html"))]


@register("templates.E001", Level.ERROR, "Fix the template syntax at the line shown; `{% end %}` closes every block.")
def templates_compile(context: CheckContext) -> Iterator[str]:
    """Every template compiles (with its {% extends %} and {% include %} chain)."""
    loaders: dict[Path, Any] = {}
    for root, name in template_files(context):
        loader = loaders.setdefault(root, tornado.template.Loader(str(root)))
        try:
            loader.load(name)
        except Exception as exc:  # noqa: BLE001 -- a template error may be any exception from the generated code
            yield f"template {name} does not compile: {type(exc).__name__}: {exc}"


@register("templates.E002", Level.ERROR, "Add {% module xsrf_form_html() %} inside the form.")
def forms_have_xsrf(context: CheckContext) -> Iterator[str]:
    """A POST form without the XSRF field fails with 403 (or is unprotected when xsrf is off)."""
    for root, name in template_files(context):
        text = (root / name).read_text(encoding="utf-8", errors="replace")
        for form in POST_FORM.finditer(text):
            if POST_METHOD.search(form["attrs"]) and not any(sign in form["body"] for sign in XSRF_SIGNS):
                line = text.count("\n", 0, form.start()) + 1
                yield f"template {name}:{line}: a POST form without xsrf_form_html()"


@register(
    "websocket.E001",
    Level.ERROR,
    "Do not return True from check_origin(); list trusted origins in the `trusted_origins` setting.",
)
def websocket_checks_origin(context: CheckContext) -> Iterator[str]:
    """A WebSocket handler that accepts a foreign Origin can be hijacked cross-site (cookies ride along)."""
    for handler in websocket_handlers(context):
        try:
            accepted = handler.check_origin(probe_instance(context, handler), FOREIGN_ORIGIN)
        except Exception:  # noqa: BLE001, S112 -- check_origin may need state we cannot fake; say nothing rather than guess
            continue
        if accepted:
            yield (
                f"{handler.__module__}.{handler.__qualname__}.check_origin() accepts any origin "
                f"({FOREIGN_ORIGIN} was accepted)"
            )


def websocket_handlers(context: CheckContext) -> list[type[Any]]:
    """The distinct WebSocketHandler classes the app routes to."""
    if context.app is None:
        return []
    handlers = [rule.target for rule, _ in iter_rules(context.app.default_router, "*")]
    unique = dict.fromkeys(h for h in handlers if issubclass(h, tornado.websocket.WebSocketHandler))
    return list(unique)


def probe_instance(context: CheckContext, handler: type[Any]) -> Any:
    """A handler object with just an application and a cross-origin request, without __init__."""
    instance = object.__new__(handler)
    instance.application = context.app
    headers = tornado.httputil.HTTPHeaders({"Host": "localhost:8000", "Origin": FOREIGN_ORIGIN})
    instance.request = tornado.httputil.HTTPServerRequest(method="GET", uri="/", headers=headers, host="localhost:8000")
    return instance


def route_problems(context: CheckContext, kind: str) -> Iterator[str]:
    """Messages for the route problems of one kind."""
    if context.app is None:
        return
    for problem in find_route_problems(list_routes(context.app)):
        if problem.kind == kind:
            yield problem.message


@register(
    "routes.W001", Level.WARNING, "Move the narrower route above the broader one (Tornado tries routes in order)."
)
def no_shadowed_routes(context: CheckContext) -> Iterator[str]:
    """A route after a broader pattern is dead code."""
    yield from route_problems(context, "shadowed")


@register("routes.W002", Level.WARNING, "Give every named route its own name.")
def no_duplicate_route_names(context: CheckContext) -> Iterator[str]:
    """reverse_url() silently returns one of two routes with the same name."""
    yield from route_problems(context, "duplicate-name")
