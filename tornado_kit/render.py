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
"""

from __future__ import annotations

import json
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from tornado_kit.errors import TkitError
from tornado_kit.templates import templates_root

PRIVATE_FILES = frozenset({".env"})  # written with mode 0600 from the start


class TemplateFailed(TkitError):
    """A skeleton template is broken (a syntax error, an undefined variable): nothing is written."""


class RenderedFile(NamedTuple):
    """One file of the project: its path relative to the project root, content and mode."""

    path: PurePosixPath
    content: bytes
    mode: int


def render_project(context: Mapping[str, Any], skeleton: Path | None = None, *, fill_cache: bool = True) -> list[RenderedFile]:
    """Render every file of the skeleton that the features in `context` keep (fill_cache=False: a dry run writes nowhere)."""
    skeleton = skeleton or templates_root() / "project"
    left_out = excluded_files(context, skeleton.parent / "project-features.toml")
    env = _environment(skeleton, fill_cache)
    files = []
    for source in sorted(p for p in skeleton.rglob("*") if p.is_file()):
        relative = PurePosixPath(source.relative_to(skeleton).as_posix())
        if str(relative) in left_out or "__pycache__" in relative.parts:
            continue
        files.append(_render_file(env, source, relative, context))
    return files


def excluded_files(context: Mapping[str, Any], manifest: Path) -> set[str]:
    """Template paths belonging to features that `context` switches off."""
    if not manifest.is_file():
        return set()
    features = tomllib.loads(manifest.read_text(encoding="utf-8"))
    left_out: set[str] = set()
    for feature, table in features.items():
        if not context.get(feature, True):
            left_out.update(table.get("files", ()))
    return left_out


def _render_file(env: Any, source: Path, relative: PurePosixPath, context: Mapping[str, Any]) -> RenderedFile:
    target = output_path(relative, str(context["package"]))
    mode = 0o600 if str(target) in PRIVATE_FILES else (0o755 if source.stat().st_mode & 0o100 else 0o644)
    if relative.suffix != ".jinja":
        return RenderedFile(target, source.read_bytes(), mode)
    import jinja2

    try:
        text = env.get_template(relative.as_posix()).render(**context)
    except jinja2.TemplateError as exc:
        raise TemplateFailed(f"template {relative} could not be rendered: {exc}") from exc
    return RenderedFile(target, text.encode("utf-8"), mode)


def output_path(relative: PurePosixPath, package: str) -> PurePosixPath:
    """Map a template path to the path it is written to in the project."""
    parts = []
    for part in relative.parts:
        part = package if part == "__package__" else part
        parts.append("." + part[4:] if part.startswith("dot-") else part)
    target = PurePosixPath(*parts)
    return target.with_suffix("") if target.suffix == ".jinja" else target


def _environment(skeleton: Path, fill_cache: bool = True) -> Any:
    import jinja2  # imported here: only `tkit new` pays for it

    from tornado_kit.template_cache import bytecode_cache

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(skeleton)),
        bytecode_cache=bytecode_cache(writable=fill_cache),
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
    env.filters.update(py=repr, toml=json.dumps, sh=shlex.quote)
    return env
