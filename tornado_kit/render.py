"""Render tkit's templates to text with no I/O besides reading them: the one Jinja2 set-up of `tkit new`
(templates/project/), `tkit deploy-config` (templates/deploy/) and the generators.

Every environment is strict (StrictUndefined), never HTML-escapes (these are Python, TOML, nginx and
supervisor files), keeps trailing newlines and trims block lines. Compiled templates are kept in the
user's private cache (template_cache.py): it makes `tkit new` about 2x faster. Importing this module
imports Jinja2, so only commands that render import it.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import jinja2

from tornado_kit import template_cache
from tornado_kit.errors import TkitError


class Syntax(NamedTuple):
    """Template delimiters: block, variable and comment start and end."""

    block: tuple[str, str] = ("{%", "%}")
    variable: tuple[str, str] = ("{{", "}}")
    comment: tuple[str, str] = ("{#", "#}")


JINJA_SYNTAX = Syntax()  # Jinja2's usual delimiters (the deploy templates)
# The project skeleton's own delimiters, so Jinja2 never touches Tornado's `{{ }}` and `{% %}`.
PROJECT_SYNTAX = Syntax(("[%", "%]"), ("[[", "]]"), ("[#", "#]"))


SkeletonFile = tuple[str, int, bytes]  # path relative to the skeleton folder (POSIX), mode, content


class TemplateFailed(TkitError):
    """A template is broken (a syntax error, an undefined variable): nothing is written."""


def _py(value: Any) -> str:
    """A Python literal as ruff format writes it: double-quoted strings, lists in brackets."""
    if isinstance(value, str):
        return json.dumps(value)  # JSON's string escapes are all valid in Python
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_py(item) for item in value) + "]"
    return repr(value)


def _toml(value: Any) -> str:
    return json.dumps(value)


def _sh(value: Any) -> str:
    return shlex.quote(value)


FILTERS: dict[str, Callable[[Any], str]] = {"py": _py, "toml": _toml, "sh": _sh}


def environment(
    loader: jinja2.BaseLoader, *, syntax: Syntax = JINJA_SYNTAX, cache_writable: bool = True
) -> jinja2.Environment:
    """A strict environment with tkit's filters (`py`, `toml`, `sh`); cache_writable=False for a dry run."""
    env = jinja2.Environment(
        loader=loader,
        bytecode_cache=template_cache.bytecode_cache(writable=cache_writable),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        block_start_string=syntax.block[0],
        block_end_string=syntax.block[1],
        variable_start_string=syntax.variable[0],
        variable_end_string=syntax.variable[1],
        comment_start_string=syntax.comment[0],
        comment_end_string=syntax.comment[1],
    )
    env.filters.update(FILTERS)
    return env


def render_template(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template; any Jinja2 error becomes TemplateFailed naming the template."""
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateError as exc:
        raise TemplateFailed(f"template {name} could not be rendered: {exc}") from exc


def read_skeleton(skeleton: Path) -> list[SkeletonFile]:
    """Every file of a template folder (sorted by path, `__pycache__` left out) with its mode and bytes."""
    found = []
    prefix = len(str(skeleton)) + 1
    for directory, subdirectories, names in os.walk(skeleton):
        subdirectories[:] = [d for d in subdirectories if d != "__pycache__"]
        for name in names:
            path = os.path.join(directory, name)
            with open(path, "rb") as source:
                executable = os.fstat(source.fileno()).st_mode & 0o100
                found.append((path[prefix:].replace(os.sep, "/"), 0o755 if executable else 0o644, source.read()))
    return sorted(found)


def skeleton_environment(files: list[SkeletonFile], *, cache_writable: bool = True) -> jinja2.Environment:
    """An environment serving the `.jinja` files of a skeleton read by read_skeleton, in PROJECT_SYNTAX."""
    templates = {path: content.decode("utf-8") for path, _, content in files if path.endswith(".jinja")}
    return environment(jinja2.DictLoader(templates), syntax=PROJECT_SYNTAX, cache_writable=cache_writable)
