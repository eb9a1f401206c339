"""The one app loader: where it looks, and one AppLoadError that says why for every way loading can fail."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tornado_kit.appload import AppLoadError, find_app, load_app
from tornado_kit.errors import BadInput, ProjectNotFound

GOOD = "import tornado.web\n\ndef make_app():\n    return tornado.web.Application([])\n"
BROKEN = {
    "syntax": ("def make_app(:\n", "SyntaxError"),
    "import": ("import no_such_module_anywhere\n", "ModuleNotFoundError: No module named 'no_such_module_anywhere'"),
    "raises": ("def make_app():\n    raise RuntimeError('no database')\n", "RuntimeError: no database"),
    "exits": ("import sys\n\ndef make_app():\n    sys.exit(3)\n", "SystemExit: 3"),
    "wrong type": ("def make_app():\n    return 42\n", "the app factory returned int, not a tornado.web.Application"),
    "no attribute": ("x = 1\n", "has no attribute 'make_app'"),
}


@pytest.fixture
def module_folder(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    """A folder for one-off app modules; they are dropped from sys.modules afterwards."""
    names: list[str] = []
    yield tmp_path, names
    for name in names:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_every_failure_is_one_error_that_says_why(kind: str, module_folder: tuple[Path, list[str]]) -> None:
    folder, names = module_folder
    name = "broken_" + kind.replace(" ", "_")
    names.append(name)
    source, reason = BROKEN[kind]
    (folder / f"{name}.py").write_text(source)
    with pytest.raises(AppLoadError) as caught:
        asyncio.run(_load(f"{name}:make_app", folder))
    assert caught.value.message.startswith(f"cannot load the app {name}:make_app: ")
    assert reason in caught.value.reason


def test_a_good_factory_loads(module_folder: tuple[Path, list[str]]) -> None:
    folder, names = module_folder
    names.append("good_app")
    (folder / "good_app.py").write_text(GOOD)
    assert type(asyncio.run(_load("good_app:make_app", folder))).__name__ == "Application"


async def _load(spec: str, folder: Path) -> object:
    return load_app(spec, folder)


def test_find_app_outside_a_project(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound):
        find_app(None, tmp_path)
    target = find_app("plain:make_app", tmp_path)
    assert (target.spec, target.folder, target.project) == ("plain:make_app", tmp_path.resolve(), None)
    with pytest.raises(BadInput, match="module:factory"):
        find_app("plain", tmp_path)


def test_find_app_in_a_project_runs_from_its_root(generated_project: Path) -> None:
    target = find_app(None, generated_project / "mysite" / "static")
    assert (target.spec, target.folder, target.project_root) == (
        "mysite.app:make_app",
        generated_project,
        generated_project,
    )
    with_app = find_app("other:make_app", generated_project / "mysite")
    assert (with_app.folder, with_app.project_root) == (generated_project / "mysite", generated_project)
