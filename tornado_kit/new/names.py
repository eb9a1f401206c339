"""Project names: check a NAME once, before anything is written, and derive its Python package name.

NAME is the distribution name (`my-site`); the package is its normalized form (`my_site`). A refused
name gets a one-line reason and a valid name to try instead.
"""

from __future__ import annotations

import keyword
import re
import sys
import unicodedata
from typing import NamedTuple

from tornado_kit.errors import BadInput

# A distribution name as PEP 508 allows it, ASCII only (checked with fullmatch: no trailing newline).
_DISTRIBUTION = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
_SEPARATORS = re.compile(r"[-._]+")

# Modules a generated project imports or is built and tested with: a package of the same name shadows them.
DEPENDENCY_NAMES = frozenset(
    {
        "tornado",
        "tornado_kit",
        "tkit",
        "click",
        "jinja2",
        "markupsafe",
        "watchdog",
        "pytest",
        "_pytest",
        "pluggy",
        "iniconfig",
        "packaging",
        "redis",
        "setuptools",
        "pkg_resources",
        "pip",
        "wheel",
        "build",
        "hatchling",
        "typing_extensions",
        "playwright",
    }
)
# sys.stdlib_module_names leaves out the regression-test package `test`; `tests` is the project's own folder.
RESERVED_NAMES = frozenset(sys.stdlib_module_names) | {
    "test",
    "tests",
    "__main__",
    "site",
    "sitecustomize",
    "usercustomize",
}

# Device names Windows reserves in any case and with any extension: a folder `con` or `con.site` cannot be
# checked out there.
WINDOWS_DEVICE_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
)


class ProjectName(NamedTuple):
    """A checked project name: the distribution name and the importable package name."""

    name: str
    package: str


def normalize_package(name: str) -> str:
    """The Python package name for a distribution name: lower case, runs of `-`, `.`, `_` become `_`."""
    return _SEPARATORS.sub("_", name).lower()


def check_name(name: str) -> ProjectName:
    """Return the checked name or raise BadInput saying why it is refused and what to use instead."""
    reason = refusal_reason(name)
    if reason is not None:
        raise BadInput(f"invalid project name {name!r}: {reason}; try {suggest_name(name)!r}")
    return ProjectName(name, normalize_package(name))


def refusal_reason(name: str) -> str | None:
    """Why `name` cannot be a project name, or None when it can."""
    if not name.strip():
        return "the name is empty"
    if "/" in name or "\\" in name or ".." in name:
        return "it is a name, not a path (no '/', '\\' or '..')"
    if not name.isascii():
        return "it contains non-ASCII characters"
    if not _DISTRIBUTION.fullmatch(name):
        return "use letters, digits, '-', '_' and '.' only, starting and ending with a letter or digit"
    for part in {name.split(".", 1)[0].lower(), normalize_package(name)}:
        if part in WINDOWS_DEVICE_NAMES:
            return f"{part!r} is a device name Windows reserves, so the project could not be checked out there"
    return _package_reason(normalize_package(name))


def _package_reason(package: str) -> str | None:
    if package[0].isdigit():
        return "a Python package name cannot start with a digit"
    if not package.isidentifier():
        return f"{package!r} is not a Python identifier"
    if keyword.iskeyword(package):
        return f"{package!r} is a Python keyword"
    if package in RESERVED_NAMES:
        return f"package {package!r} would shadow the Python standard library module of that name"
    if package in DEPENDENCY_NAMES:
        return f"package {package!r} would shadow the dependency {package!r}"
    return None


def suggest_name(name: str) -> str:
    """A valid name close to `name`: ASCII-folded, lower case, with a `my_` prefix when needed."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    stem = folded.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    for candidate in (cleaned, f"my_{cleaned}"):
        if candidate and refusal_reason(candidate) is None:
            return candidate
    return "mysite"
