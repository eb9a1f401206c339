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

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from tornado_kit.plan import RenderedFile
from tornado_kit.render import PROJECT_SYNTAX, environment, render_template
from tornado_kit.templates import templates_root

PRIVATE_FILES = frozenset({".env"})  # written with mode 0600 from the start

SkeletonFile = tuple[str, int, bytes]  # path relative to the skeleton (POSIX), mode, content


def render_project(
    context: Mapping[str, Any], skeleton: Path | None = None, *, cache_writable: bool = True
) -> list[RenderedFile]:
    """Render every file of the skeleton that the features in `context` keep (cache_writable=False: dry run)."""
    skeleton = skeleton or templates_root() / "project"
    files = read_skeleton(skeleton)
    manifest_path = skeleton.parent / "project-features.toml"
    left_out = excluded_files(context, manifest_path.read_bytes() if manifest_path.is_file() else b"")
    templates = {path: content.decode("utf-8") for path, _, content in files if path.endswith(".jinja")}
    env = environment(jinja2.DictLoader(templates), syntax=PROJECT_SYNTAX, cache_writable=cache_writable)
    rendered = []
    for path, mode, content in files:
        if path in left_out:
            continue
        if path.endswith(".jinja"):
            content = render_template(env, path, context).encode("utf-8")
        target = output_path(PurePosixPath(path), str(context["package"]))
        rendered.append(RenderedFile(target, content, 0o600 if str(target) in PRIVATE_FILES else mode))
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
