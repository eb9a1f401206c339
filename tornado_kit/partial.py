"""Render a skeleton template once with its string values left as holes, then fill the holes per
project without importing Jinja2: what lets a cached `tkit new` skip Jinja2 entirely.

A template qualifies only when every string value (name, package, secret, ...) can do nothing but
reach the output: directly, joined with `~`, in a list, or through a filter `fill` can apply.
The booleans (the features) are evaluated for real, so `[% if auth %]` blocks are decided once per
feature set. Any other use of a string value (a test, a comparison, another filter) makes the
template not qualify and `tkit new` renders it with Jinja2 as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Hole = list[Any]  # ["value", context key] or ["filter", filter name, argument with holes]
# Filters that return Markup in Jinja2: only safe to defer as the last step before the output.
_MARKUP_FILTERS = frozenset({"e", "escape", "tojson"})


class NotCacheable(Exception):
    """This template uses a string value in a way holes cannot reproduce."""


def fill(text: str, holes: list[Hole], context: Mapping[str, Any], filters: Mapping[str, Callable[[Any], str]]) -> str:
    """`text` with every hole marker (NUL, hole index, NUL) replaced by its value for this project's context."""
    parts = text.split("\x00")  # the templates hold no NUL, so odd parts are hole indexes
    parts[1::2] = [_hole_value(holes[int(index)], holes, context, filters) for index in parts[1::2]]
    return "".join(parts)


def _hole_value(
    hole: Hole, holes: list[Hole], context: Mapping[str, Any], filters: Mapping[str, Callable[[Any], str]]
) -> str:
    if hole[0] == "value":
        return str(context[hole[1]])
    return filters[hole[1]](_resolve(hole[2], holes, context, filters))


def _resolve(
    value: Any, holes: list[Hole], context: Mapping[str, Any], filters: Mapping[str, Callable[[Any], str]]
) -> Any:
    if isinstance(value, str):
        return fill(value, holes, context, filters)
    return [_resolve(item, holes, context, filters) for item in value]


def render_with_holes(
    env: Any, name: str, context: Mapping[str, Any], filters: Mapping[str, Callable[[Any], str]]
) -> tuple[str, list[Hole]]:
    """Render template `name` with every string value of `context` as a hole; raise NotCacheable if it does not qualify.

    `filters` are the filters a hole may pass through, as `fill` applies them (plain str results).
    """
    source = env.loader.get_source(env, name)[0]
    strings = {key for key, value in context.items() if isinstance(value, str)}
    tree = env.parse(source)
    if "\x00" in source or not _holes_reach_output_only(tree, strings, frozenset(filters)):
        raise NotCacheable(name)
    holes: list[Hole] = [["value", key] for key in sorted(strings)]
    marked = {key: f"\x00{index}\x00" for index, (_, key) in enumerate(holes)}
    overlay = env.overlay()
    overlay.filters = {**env.filters, **{key: _deferring(apply, key, holes) for key, apply in filters.items()}}
    # Compiled afresh: compiled code depends on how each filter is called, and these are plain functions.
    text = overlay.from_string(tree).render(**{**context, **marked})
    return text, holes


def _deferring(apply: Callable[[Any], str], filter_name: str, holes: list[Hole]) -> Callable[[Any], str]:
    def deferred(value: Any) -> str:
        if not _has_hole(value):
            return apply(value)
        holes.append(["filter", filter_name, value])
        return f"\x00{len(holes) - 1}\x00"

    return deferred


def _has_hole(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list) and any(_has_hole(item) for item in value)


def _holes_reach_output_only(tree: Any, strings: set[str], deferred: frozenset[str]) -> bool:
    """True when the template uses only plain nodes, and every string value flows straight to the output."""
    from jinja2 import nodes

    allowed = (
        nodes.Template,
        nodes.Output,
        nodes.TemplateData,
        nodes.Const,
        nodes.Name,
        nodes.If,
        nodes.Not,
        nodes.And,
        nodes.Or,
        nodes.Concat,
        nodes.List,
        nodes.CondExpr,
        nodes.Filter,
    )
    stack: list[tuple[Any, tuple[Any, ...]]] = [(tree, ())]
    while stack:
        node, parents = stack.pop()
        if type(node) not in allowed:
            return False
        if isinstance(node, nodes.Name) and node.name in strings and not _reaches_output(node, parents, deferred):
            return False
        stack.extend((child, (*parents, node)) for child in node.iter_child_nodes())
    return True


def _reaches_output(node: Any, parents: tuple[Any, ...], deferred: frozenset[str]) -> bool:
    from jinja2 import nodes

    child = node
    for depth in range(len(parents) - 1, -1, -1):
        parent = parents[depth]
        if isinstance(parent, nodes.Output):
            return True
        if isinstance(parent, nodes.Filter):
            plain = parent.node is child and not (parent.args or parent.kwargs or parent.dyn_args or parent.dyn_kwargs)
            last = parent.name not in _MARKUP_FILTERS or isinstance(parents[depth - 1], nodes.Output)
            if not (parent.name in deferred and plain and last):
                return False
        elif isinstance(parent, nodes.CondExpr):
            if child is parent.test:
                return False
        elif not isinstance(parent, (nodes.Concat, nodes.List)):
            return False
        child = parent
    return False
