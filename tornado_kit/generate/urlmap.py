"""Edit the project's URL map (`<package>/urls.py`) as code: add or take out imports and `url(...)` routes.

The stdlib parser finds where things are; new lines are spliced in at those positions and every other
byte of the file (the user's routes, comments, blank lines, formatting) is kept as it was. The result
is parsed again before it is used. libcst would do the same edit but costs about 0.4 s to import on
every run, more than a whole `tkit new`; position splicing needs only `ast` (a few ms).

A map that does not have the shape below is left alone (UrlMapShape lists the lines to add by hand):

    def url_patterns(...) -> list[...]:
        ...
        return [            # or: routes = [ ... ] ... return routes
            url(r"/", HomeHandler, name="home"),
        ]
"""

from __future__ import annotations

import ast
import re

from tornado_kit.errors import TkitError

FUNCTION = "url_patterns"
_REST_OF_ELEMENT_LINE = re.compile(r"\s*,?\s*(#.*)?")


class UrlMapShape(TkitError):
    """The URL map cannot be edited safely; nothing is written and the lines to add by hand are shown."""

    def __init__(self, reason: str, lines: list[str] | None = None) -> None:
        by_hand = "\n".join(f"    {line}" for line in lines or [])
        super().__init__(
            f"{reason}; nothing was written." + (f" Add these lines by hand:\n{by_hand}" if by_hand else "")
        )


class UrlMap:
    """What the URL map already holds, for the name checks, and where new routes go."""

    def __init__(self, names: set[str] | None = None) -> None:
        self.paths: set[str] = set()
        self.route_names: set[str] = set()
        self.names: set[str] = names or set()  # every name imported or defined at module level
        self.deps: str | None = None  # the variable holding the handlers' shared objects, when there is one
        self.routes: ast.List | None = None


def read_url_map(source: str) -> UrlMap:
    """Parse the URL map; UrlMapShape when it has no `url_patterns()` returning a list literal."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise UrlMapShape(f"the URL map does not parse ({exc.msg}, line {exc.lineno})") from None
    found = UrlMap(_module_names(tree))
    function = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == FUNCTION), None)
    if function is None:
        raise UrlMapShape(f"the URL map has no module-level {FUNCTION}() function")
    found.routes = _route_list(function)
    for statement in function.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Dict):
            target = statement.targets[0]
            if isinstance(target, ast.Name) and target.id == "deps":
                found.deps = target.id
    for element in found.routes.elts:
        if isinstance(element, ast.Call) and element.args:
            first = element.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.paths.add(first.value)
            for keyword in element.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    found.route_names.add(str(keyword.value.value))
    return found


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
    return names


def _route_list(function: ast.FunctionDef) -> ast.List:
    """The list literal url_patterns() returns (directly, or through one variable)."""
    returns = [n for n in ast.walk(function) if isinstance(n, ast.Return)]
    if len(returns) != 1 or returns[0].value is None:
        raise UrlMapShape(f"{FUNCTION}() does not end with one `return [...]`")
    value = returns[0].value
    if isinstance(value, ast.Name):
        assigned = [
            n.value
            for n in function.body
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == value.id for t in n.targets)
        ]
        value = assigned[0] if len(assigned) == 1 else value
    if not isinstance(value, ast.List) or not value.elts:
        raise UrlMapShape(f"{FUNCTION}() does not return a non-empty list literal of routes")
    if not all(isinstance(e, ast.Call) for e in value.elts):
        raise UrlMapShape(f"the list {FUNCTION}() returns holds something other than url(...) calls")
    return value


class _Lines:
    """The source as lines, to turn ast's (line, UTF-8 byte column) into string offsets."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.lines = source.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", "replace"))

    def line_end(self, lineno: int) -> int:
        """Offset just past line `lineno`'s newline."""
        return self.starts[lineno]

    def text_before(self, lineno: int, col: int) -> str:
        return self.source[self.starts[lineno - 1] : self.offset(lineno, col)]


def add_to_url_map(source: str, imports: list[str], routes: list[str]) -> str:
    """The URL map with `imports` (whole lines) and `routes` (`url(...)` expressions) added."""
    lines_to_add = imports + [f"{route}," for route in routes]
    try:
        url_map = read_url_map(source)
    except UrlMapShape as exc:
        raise UrlMapShape(str(exc).split("; nothing was written")[0], lines_to_add) from None
    assert url_map.routes is not None
    lines = _Lines(source)
    try:
        edits = [
            _route_edit(lines, url_map.routes, routes),
            *(_import_edit(lines, ast.parse(source), i) for i in imports),
        ]
    except UrlMapShape as exc:
        raise UrlMapShape(str(exc).split("; nothing was written")[0], lines_to_add) from None
    result = _apply(source, edits)
    _verify(result, len(url_map.routes.elts) + len(routes), lines_to_add)
    return result


def _route_edit(lines: _Lines, routes: ast.List, new: list[str]) -> tuple[int, int, str]:
    last = routes.elts[-1]
    assert last.end_lineno is not None and last.end_col_offset is not None
    end = lines.offset(last.end_lineno, last.end_col_offset)
    rest = lines.source[end : lines.line_end(last.end_lineno)].rstrip("\r\n")
    if not _REST_OF_ELEMENT_LINE.fullmatch(rest):  # `...)]`: the list closes on the last route's line
        return (end, end, "".join(f", {route}" for route in new))
    prefix = lines.text_before(last.lineno, last.col_offset)
    indent = prefix if not prefix.strip() else " " * len(prefix)
    added = "".join(f"{indent}{route},\n" for route in new)
    if rest.lstrip().startswith(","):
        return (lines.line_end(last.end_lineno), lines.line_end(last.end_lineno), added)
    # no trailing comma on the last route: add one right after it, then the new lines after its line
    line_end = lines.line_end(last.end_lineno)
    return (end, line_end, "," + lines.source[end:line_end] + added)


def _import_edit(lines: _Lines, tree: ast.Module, statement: str) -> tuple[int, int, str]:
    """Put the import among the relative imports, in module order (as isort would)."""
    module = _import_module(statement)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    relative = [n for n in imports if isinstance(n, ast.ImportFrom) and n.level > 0]
    for node in relative:
        if "." * node.level + (node.module or "") > module:
            position = lines.starts[node.lineno - 1]
            return (position, position, statement + "\n")
    anchor = relative[-1] if relative else (imports[-1] if imports else None)
    if anchor is None or anchor.end_lineno is None:
        raise UrlMapShape("the URL map has no imports to put the new one next to", [statement])
    position = lines.line_end(anchor.end_lineno)
    return (position, position, ("" if relative else "\n") + statement + "\n")


def _import_module(statement: str) -> str:
    node = ast.parse(statement).body[0]
    assert isinstance(node, ast.ImportFrom)
    return "." * node.level + (node.module or "")


def _apply(source: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace source[start:end] by text for each edit, from the end of the file backwards."""
    for start, end, text in sorted(edits, key=lambda edit: edit[0], reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _verify(result: str, expected_routes: int, lines_to_add: list[str]) -> None:
    try:
        routes = read_url_map(result).routes
    except UrlMapShape:
        routes = None
    if routes is None or len(routes.elts) != expected_routes:
        raise UrlMapShape("tkit could not add the routes to the URL map safely", lines_to_add)


def remove_from_url_map(source: str, imports: list[str], routes: list[str]) -> tuple[str, list[str]]:
    """The URL map without the given imports and routes, and those of them that were not found."""
    url_map = read_url_map(source)
    assert url_map.routes is not None
    lines = _Lines(source)
    tree = ast.parse(source)
    edits: list[tuple[int, int, str]] = []
    missing: list[str] = []
    wanted_imports = {ast.unparse(ast.parse(line)): line for line in imports}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and ast.unparse(node) in wanted_imports:
            edits.append(_statement_span(lines, node))
            wanted_imports.pop(ast.unparse(node))
    wanted_routes = {ast.unparse(ast.parse(route, mode="eval")): route for route in routes}
    for element in url_map.routes.elts:
        if ast.unparse(element) in wanted_routes:
            edits.append(_element_span(lines, element))
            wanted_routes.pop(ast.unparse(element))
    missing = [*wanted_imports.values(), *wanted_routes.values()]
    return _apply(source, edits), missing


def _statement_span(lines: _Lines, node: ast.stmt) -> tuple[int, int, str]:
    assert node.end_lineno is not None
    return (lines.starts[node.lineno - 1], lines.line_end(node.end_lineno), "")


def _element_span(lines: _Lines, element: ast.expr) -> tuple[int, int, str]:
    """The element with its whole line(s) when it has them to itself, else with the comma before (or after) it."""
    assert element.end_lineno is not None and element.end_col_offset is not None
    start = lines.offset(element.lineno, element.col_offset)
    end = lines.offset(element.end_lineno, element.end_col_offset)
    after = re.match(r"[ \t]*,?[ \t]*", lines.source[end:])
    rest = lines.source[end + (after.end() if after else 0) : lines.line_end(element.end_lineno)]
    if not lines.text_before(element.lineno, element.col_offset).strip() and not rest.strip():
        return (lines.starts[element.lineno - 1], lines.line_end(element.end_lineno), "")
    before = re.search(r",\s*$", lines.source[:start])
    if before:
        return (before.start(), end, "")
    return (start, end + (after.end() if after else 0), "")
