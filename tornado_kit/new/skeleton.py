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

import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from tornado_kit.plan import RenderedFile
from tornado_kit.render import read_skeleton, render_template, skeleton_environment
from tornado_kit.templates import templates_root

PRIVATE_FILES = frozenset({".env"})  # written with mode 0600 from the start


def render_project(
    context: Mapping[str, Any], skeleton: Path | None = None, *, cache_writable: bool = True
) -> list[RenderedFile]:
    """Render every file of the skeleton that the features in `context` keep (cache_writable=False: dry run)."""
    skeleton = skeleton or templates_root() / "project"
    files = read_skeleton(skeleton)
    manifest_path = skeleton.parent / "project-features.toml"
    left_out = excluded_files(context, manifest_path.read_bytes() if manifest_path.is_file() else b"")
    env = skeleton_environment(files, cache_writable=cache_writable)
    rendered = []
    for path, mode, content in files:
        if path in left_out:
            continue
        if path.endswith(".jinja"):
            content = render_template(env, path, context).encode("utf-8")
        target = output_path(PurePosixPath(path), str(context["package"]))
        rendered.append(RenderedFile(target, content, 0o600 if str(target) in PRIVATE_FILES else mode))
    return rendered


def excluded_files(context: Mapping[str, Any], manifest: bytes) -> set[str]:
    """Template paths belonging to features that `context` switches off (`manifest`: the features file's bytes)."""
    if not manifest:
        return set()
    features = tomllib.loads(manifest.decode("utf-8"))
    left_out: set[str] = set()
    for feature, table in features.items():
        if not context.get(feature, True):
            left_out.update(table.get("files", ()))
    return left_out


def output_path(relative: PurePosixPath, package: str) -> PurePosixPath:
    """Map a template path to the path it is written to in the project."""
    parts = []
    for part in relative.parts:
        part = package if part == "__package__" else part
        parts.append("." + part[4:] if part.startswith("dot-") else part)
    target = PurePosixPath(*parts)
    return target.with_suffix("") if target.suffix == ".jinja" else target
