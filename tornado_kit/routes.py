"""Route introspection: the URL map Tornado keeps inside an Application, as plain rows.

Used by `tkit routes` (a table or JSON) and by `tkit check` (shadowed routes, duplicate names), which
import it only once they load an app (it imports Tornado).
"""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import tornado.routing
import tornado.web
import tornado.websocket

# Values tried for a pattern's groups when building sample paths that the pattern itself matches.
SAMPLE_ARGUMENTS = ("1", "42", "abc", "a-b_c", "2024-01-31", "x.y", "A1b2", "a/b")
MAX_WRAPPERS = 20


@dataclass(frozen=True)
class Route:
    """One URL rule of an Application, with what its handler class does."""

    pattern: str
    name: str | None
    handler: str
    methods: tuple[str, ...]
    login_required: tuple[str, ...]
    websocket: bool
    xsrf_exempt: bool
    host: str = "*"
    samples: tuple[str, ...] = field(default=(), compare=False)
    regex: Any = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (lists instead of tuples, no internal samples)."""
        data = {key: value for key, value in asdict(self).items() if key not in ("samples", "regex")}
        return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}

    @property
    def login(self) -> str:
        """`yes` when every implemented method needs login, `no` when none does, else the methods."""
        if not self.login_required:
            return "no"
        if set(self.login_required) >= set(self.methods):
            return "yes"
        return ",".join(self.login_required)


@dataclass(frozen=True)
class RouteProblem:
    """A route that can never match, or a name used twice."""

    kind: str  # "shadowed" or "duplicate-name"
    route: Route
    other: Route

    @property
    def message(self) -> str:
        """One line saying what is wrong and where."""
        if self.kind == "shadowed":
            return (
                f"route {self.route.pattern} ({self.route.handler}) never matches: "
                f"{self.other.pattern} ({self.other.handler}) comes first and matches everything it does"
            )
        return (
            f"route name {self.route.name!r} is used by {self.other.pattern} and again by {self.route.pattern}; "
            "reverse_url finds only the last one"
        )


def list_routes(app: tornado.web.Application) -> list[Route]:
    """Every handler rule of `app`, in the order Tornado tries them (host rules first)."""
    xsrf_on = bool(app.settings.get("xsrf_cookies"))
    return [describe_rule(rule, host, xsrf_on) for rule, host in iter_rules(app.default_router, "*")]


def iter_rules(router: tornado.routing.RuleRouter, host: str) -> Iterator[tuple[tornado.routing.Rule, str]]:
    """Yield (rule, host pattern) for every rule whose target is a RequestHandler class, recursively."""
    for rule in router.rules:
        target, matcher = rule.target, rule.matcher
        if isinstance(target, tornado.routing.RuleRouter):
            inner_host = matcher.host_pattern.pattern if isinstance(matcher, tornado.routing.HostMatches) else host
            if isinstance(matcher, tornado.routing.DefaultHostMatches):
                continue  # the same handlers again, reachable through default_host
            yield from iter_rules(target, inner_host)
        elif is_handler_class(target) and isinstance(matcher, tornado.routing.PathMatches):
            yield rule, host


def is_handler_class(target: Any) -> bool:
    """True for a RequestHandler subclass (a rule target may also be a router or a callable)."""
    return isinstance(target, type) and issubclass(target, tornado.web.RequestHandler)


def describe_rule(rule: tornado.routing.Rule, host: str, xsrf_on: bool) -> Route:
    """Turn one rule into a Route row."""
    handler = rule.target
    matcher: Any = rule.matcher  # a PathMatches (iter_rules yields only those)
    methods = implemented_methods(handler)
    websocket = issubclass(handler, tornado.websocket.WebSocketHandler)
    return Route(
        pattern=pattern_text(matcher.regex.pattern),
        name=rule.name,
        handler=f"{handler.__module__}.{handler.__qualname__}",
        methods=methods,
        login_required=methods
        if prepare_requires_login(handler)
        else tuple(m for m in methods if requires_login(getattr(handler, m.lower()))),
        websocket=websocket,
        xsrf_exempt=not websocket and (not xsrf_on or overrides_xsrf_check(handler)),
        host=host,
        samples=sample_paths(matcher),
        regex=matcher.regex,
    )


def pattern_text(pattern: str) -> str:
    """The pattern as written (Tornado appends `$` to string patterns)."""
    return pattern[:-1] if pattern.endswith("$") and not pattern.endswith("\\$") else pattern


def implemented_methods(handler: type[tornado.web.RequestHandler]) -> tuple[str, ...]:
    """The HTTP methods the class really implements (the rest answer 405)."""
    unimplemented = tornado.web.RequestHandler._unimplemented_method
    return tuple(
        method
        for method in handler.SUPPORTED_METHODS
        if getattr(handler, method.lower(), unimplemented) is not unimplemented
    )


def requires_login(method: Callable[..., Any]) -> bool:
    """True when `method` (or anything it wraps) is Tornado's @authenticated wrapper."""
    reference = authenticated_code()
    current: Any = method
    for _ in range(MAX_WRAPPERS):
        code = getattr(current, "__code__", None)
        if code is not None and (code is reference or code.co_qualname == reference.co_qualname):
            return True
        current = getattr(current, "__wrapped__", None)
        if current is None:
            return False
    return False


def prepare_requires_login(handler: type[Any]) -> bool:
    """True when the prepare() that runs refuses anonymous users (`if not self.current_user: raise`)."""
    for cls in handler.__mro__:
        if cls.__module__.startswith("tornado.") or "prepare" not in cls.__dict__:
            continue
        tree = function_tree(cls.__dict__["prepare"])
        if tree is None:
            return False
        if any(guards_anonymous(node) for node in ast.walk(tree) if isinstance(node, ast.If)):
            return True
        if not calls_super_prepare(tree):
            return False
    return False


def function_tree(function: Any) -> ast.AST | None:
    """The parsed source of a function, or None when it has no readable source."""
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return None


def guards_anonymous(node: ast.If) -> bool:
    """`if not self.current_user:` / `if self.current_user is None:` whose body raises or redirects."""
    test = node.test
    negated = isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
    is_none = isinstance(test, ast.Compare) and any(isinstance(op, ast.Is) for op in test.ops)
    subject = test.operand if isinstance(test, ast.UnaryOp) else test.left if isinstance(test, ast.Compare) else None
    if not (negated or is_none) or not (isinstance(subject, ast.Attribute) and subject.attr == "current_user"):
        return False
    refusals = ("redirect", "send_error", "get_login_url")
    return any(
        isinstance(inner, ast.Raise) or (isinstance(inner, ast.Attribute) and inner.attr in refusals)
        for statement in node.body
        for inner in ast.walk(statement)
    )


def calls_super_prepare(tree: ast.AST) -> bool:
    """True when the function calls super().prepare()."""
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "prepare"
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "super"
        for node in ast.walk(tree)
    )


def authenticated_code() -> Any:
    """The code object of the wrapper that tornado.web.authenticated returns."""

    def probe(self: Any) -> None:
        """A method to decorate."""

    return tornado.web.authenticated(probe).__code__


def overrides_xsrf_check(handler: type[tornado.web.RequestHandler]) -> bool:
    """True when the class replaces check_xsrf_cookie (usually to skip it)."""
    return handler.check_xsrf_cookie is not tornado.web.RequestHandler.check_xsrf_cookie


def sample_paths(matcher: Any) -> tuple[str, ...]:
    """Paths the pattern itself matches, built by reversing it with sample arguments."""
    groups = matcher.regex.groups
    candidates = [()] if groups == 0 else [(arg,) * groups for arg in SAMPLE_ARGUMENTS]
    if groups > 1:
        candidates += list(itertools.product(SAMPLE_ARGUMENTS[:4], repeat=groups))[:64]
    samples: list[str] = []
    for arguments in candidates:
        path = reverse_or_none(matcher, arguments)
        if path is not None and matcher.regex.match(path) and path not in samples:
            samples.append(path)
    return tuple(samples)


def reverse_or_none(matcher: Any, arguments: tuple[str, ...]) -> str | None:
    """`matcher.reverse(*arguments)` with the raw argument (no URL escaping), or None if impossible."""
    template = getattr(matcher, "_path", None)
    if template is None:
        return None
    try:
        return str(template % arguments)
    except (TypeError, ValueError):
        return None


def find_route_problems(routes: list[Route]) -> list[RouteProblem]:
    """Shadowed routes and duplicate names, in route order."""
    problems: list[RouteProblem] = []
    for index, route in enumerate(routes):
        earlier = [other for other in routes[:index] if other.host == route.host]
        shadow = next((other for other in earlier if shadows(other, route)), None)
        if shadow is not None:
            problems.append(RouteProblem("shadowed", route, shadow))
        first = next((other for other in routes[:index] if route.name and other.name == route.name), None)
        if first is not None:
            problems.append(RouteProblem("duplicate-name", route, first))
    return problems


def shadows(earlier: Route, later: Route) -> bool:
    """True when every sample path of `later` is taken by `earlier` (tried first)."""
    if not later.samples or earlier.regex is None:
        return False
    return all(earlier.regex.match(path) for path in later.samples)
