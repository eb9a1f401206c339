"""Render the project skeleton in templates/project/ to a list of files, with no I/O besides reading
the templates.

Conventions of the skeleton, so that its Tornado templates and Python files stay readable:
- Only files ending in `.jinja` are rendered (the suffix is dropped); every other file is copied
  byte for byte. Tornado's own templates (`{{ }}`, `{% %}`) are therefore never touched by Jinja2.
- Rendered files use Jinja2 with other delimiters: `[[ var ]]`, `[% block %]`, `[# comment #]`.
- A path segment `__package__` becomes the project's package name; a leading `dot-` becomes `.`
  (`dot-gitignore` -> `.gitignore`), so no dotfile is hidden from packaging tools.
- templates/project-features.toml lists, per optional feature, the template files left out when
  the feature is off (`tkit new --no-auth`, `--no-websocket`).

A project rendered once per feature set is kept in the user's cache with its string values (name,
package, secret) as holes (partial.py, template_cache.py); later runs fill the holes without Jinja2.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from tornado_kit import template_cache
from tornado_kit.errors import TkitError
from tornado_kit.templates import templates_root

PRIVATE_FILES = frozenset({".env"})  # written with mode 0600 from the start

SkeletonFile = tuple[str, int, bytes]  # path relative to the skeleton (POSIX), mode, content


class TemplateFailed(TkitError):
    """A skeleton template is broken (a syntax error, an undefined variable): nothing is written."""


class RenderedFile(NamedTuple):
    """One file of the project: its path relative to the project root, content and mode."""

    path: PurePosixPath
    content: bytes
    mode: int


def _toml(value: Any) -> str:
    import json

    return json.dumps(value)


def _sh(value: Any) -> str:
    import shlex

    return shlex.quote(value)


def _escape(value: Any) -> str:
    # markupsafe.escape's replacements (Jinja2's `e`), without loading markupsafe; every cache fill
    # checks the result against Jinja2's own render.
    text = str(value).replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")
    return text.replace("'", "&#39;").replace('"', "&#34;")


def _tojson(value: Any) -> str:
    import json

    text = json.dumps(value, sort_keys=True)  # Jinja2's tojson, with its default policy
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("'", "\\u0027")


FILTERS: dict[str, Callable[[Any], str]] = {"py": repr, "toml": _toml, "sh": _sh}
# What a cached hole may pass through on its way to the output: our filters and two of Jinja2's.
FILL_FILTERS: dict[str, Callable[[Any], str]] = {**FILTERS, "e": _escape, "escape": _escape, "tojson": _tojson}


def render_project(
    context: Mapping[str, Any], skeleton: Path | None = None, *, fill_cache: bool = True
) -> list[RenderedFile]:
    """Render every file of the skeleton that the features in `context` keep (fill_cache=False: for a dry run)."""
    skeleton = skeleton or templates_root() / "project"
    files = read_skeleton(skeleton)
    manifest_path = skeleton.parent / "project-features.toml"
    manifest = manifest_path.read_bytes() if manifest_path.is_file() else b""
    key = template_cache.rendered_key(files, manifest, context)
    cached = _from_cache(template_cache.load_rendered(key, context), files, context)
    if cached is not None:
        return cached
    remember = fill_cache and template_cache.private_directory(writable=True) is not None
    rendered, entry = _render_fresh(files, excluded_files(context, manifest), context, remember)
    if entry is not None:
        template_cache.store_rendered(key, context, entry)
    return rendered


def read_skeleton(skeleton: Path) -> list[SkeletonFile]:
    """Every file of the skeleton (sorted by path, `__pycache__` left out) with its mode and bytes."""
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


def excluded_files(context: Mapping[str, Any], manifest: bytes) -> set[str]:
    """Template paths belonging to features that `context` switches off (`manifest`: the features file's bytes)."""
    if not manifest:
        return set()
    import tomllib

    features = tomllib.loads(manifest.decode("utf-8"))
    left_out: set[str] = set()
    for feature, table in features.items():
        if not context.get(feature, True):
            left_out.update(table.get("files", ()))
    return left_out


def _from_cache(entry: Any, files: list[SkeletonFile], context: Mapping[str, Any]) -> list[RenderedFile] | None:
    """The project from a cached entry ([path, text with holes or None for a copy, holes]), or None if unusable."""
    if entry is None:
        return None
    from tornado_kit.partial import fill

    by_path = {path: (mode, content) for path, mode, content in files}
    try:
        rendered = []
        for path, text, holes in entry:
            mode, content = by_path[path]
            if text is not None:
                content = fill(text, holes, context, FILL_FILTERS).encode("utf-8")
            rendered.append(_rendered(path, content, mode, context))
        return rendered
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _rendered(path: str, content: bytes, mode: int, context: Mapping[str, Any]) -> RenderedFile:
    target = output_path(PurePosixPath(path), str(context["package"]))
    return RenderedFile(target, content, 0o600 if str(target) in PRIVATE_FILES else mode)


def _render_fresh(
    files: list[SkeletonFile], left_out: set[str], context: Mapping[str, Any], fill_cache: bool
) -> tuple[list[RenderedFile], list[Any] | None]:
    """Render with Jinja2; also return the cache entry (None: not filling the cache, or a template does not qualify)."""
    env = _environment({path: content for path, _, content in files if path.endswith(".jinja")}, fill_cache)
    rendered: list[RenderedFile] = []
    entry: list[Any] | None = [] if fill_cache else None
    for path, mode, content in files:
        if path in left_out:
            continue
        cached: list[Any] | None = [path, None, None]
        if path.endswith(".jinja"):
            text = _render_template(env, path, context)
            content = text.encode("utf-8")
            cached = _with_holes(env, path, context, text) if entry is not None else None
        rendered.append(_rendered(path, content, mode, context))
        entry = entry + [cached] if entry is not None and cached is not None else None
    return rendered, entry


def _render_template(env: Any, path: str, context: Mapping[str, Any]) -> str:
    import jinja2

    try:
        return str(env.get_template(path).render(**context))
    except jinja2.TemplateError as exc:
        raise TemplateFailed(f"template {path} could not be rendered: {exc}") from exc


def _with_holes(env: Any, path: str, context: Mapping[str, Any], text: str) -> list[Any] | None:
    """[path, text with holes, holes] for the cache, if the template qualifies and filling it gives exactly `text`."""
    from tornado_kit.partial import fill, render_with_holes

    try:
        with_holes, holes = render_with_holes(env, path, context, FILL_FILTERS)
    except Exception:  # noqa: BLE001 - NotCacheable or any other failure: the real render succeeded, just no entry
        return None
    return [path, with_holes, holes] if fill(with_holes, holes, context, FILL_FILTERS) == text else None


def output_path(relative: PurePosixPath, package: str) -> PurePosixPath:
    """Map a template path to the path it is written to in the project."""
    parts = []
    for part in relative.parts:
        part = package if part == "__package__" else part
        parts.append("." + part[4:] if part.startswith("dot-") else part)
    target = PurePosixPath(*parts)
    return target.with_suffix("") if target.suffix == ".jinja" else target


def _environment(templates: Mapping[str, bytes], fill_cache: bool = True) -> Any:
    """A Jinja2 environment serving exactly the template bytes the cache key was computed from."""
    import jinja2  # imported here: only a `tkit new` that misses the cache pays for it

    env = jinja2.Environment(
        loader=jinja2.DictLoader({path: content.decode("utf-8") for path, content in templates.items()}),
        bytecode_cache=template_cache.bytecode_cache(writable=fill_cache),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[[",
        variable_end_string="]]",
        comment_start_string="[#",
        comment_end_string="#]",
    )
    env.filters.update(FILTERS)
    return env
