"""The built wheel carries the templates: build it, install it into a fresh virtual environment and run
`tkit new` from outside the checkout (the classic missing-package-data bug cannot land)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tornado_kit.new import project_context
from tornado_kit.new.skeleton import render_project

CHECKOUT = Path(__file__).resolve().parent.parent


def run(*args: str | Path, cwd: Path, timeout: float = 300) -> str:
    """Run a command, failing the test with its output when it fails."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def checkout_render() -> dict[str, bytes]:
    """The default project rendered from the checkout, {path: content}, taken just before the wheel is built."""
    return {str(f.path): f.content for f in render_project(project_context("mysite", "mysite"))}


def build_wheel(outdir: Path) -> Path:
    """Build the checkout's wheel; offline when the build backend is installed here, else in build's own env."""
    isolation = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []
    run(sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", outdir, CHECKOUT, cwd=outdir.parent)
    wheels = list(outdir.glob("tornado_kit-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def lend_dependencies(venv: Path) -> None:
    """Make this interpreter's installed packages (tornado, click, jinja2, watchdog) importable in `venv`,
    after the venv's own site-packages, without processing their .pth files (so no editable tkit leaks in)."""
    (site_packages,) = venv.glob("lib/python*/site-packages")
    outer = [p for p in sys.path if Path(p).name in ("site-packages", "dist-packages") and Path(p).is_dir()]
    (site_packages / "_lent_dependencies.pth").write_text("\n".join(outer) + "\n")


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory: pytest.TempPathFactory, checkout_render: dict[str, bytes]) -> Path:
    """A fresh venv with the wheel built from this checkout installed; the dependencies are lent, not downloaded."""
    scratch = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(scratch / "dist")
    venv = scratch / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=scratch)
    lend_dependencies(venv)
    run(venv / "bin" / "python", "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=scratch)
    return venv


@pytest.mark.slow
def test_the_venv_imports_the_wheel_not_the_checkout(installed_venv: Path, tmp_path: Path) -> None:
    location = run(
        installed_venv / "bin" / "python", "-c", "import tornado_kit; print(tornado_kit.__file__)", cwd=tmp_path
    )
    assert Path(location.strip()).is_relative_to(installed_venv)
    templates = run(
        installed_venv / "bin" / "python",
        "-c",
        "from tornado_kit.templates import templates_root; print(templates_root())",
        cwd=tmp_path,
    )
    assert Path(templates.strip()).is_relative_to(installed_venv)


@pytest.mark.slow
def test_tkit_new_from_the_wheel_writes_the_complete_project(
    installed_venv: Path, checkout_render: dict[str, bytes], tmp_path: Path
) -> None:
    assert not tmp_path.is_relative_to(CHECKOUT)
    output = run(installed_venv / "bin" / "tkit", "new", "mysite", cwd=tmp_path)
    assert "cd mysite && pip install -e . && tkit serve" in output
    root = tmp_path / "mysite"
    written = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    expected = checkout_render
    assert sorted(written) == sorted(expected)
    differing = [path for path in expected if path != ".env" and written[path] != expected[path]]
    assert differing == []


@pytest.mark.slow
def test_the_installed_command_refuses_a_bad_name_with_exit_2(installed_venv: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [installed_venv / "bin" / "tkit", "new", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert (
        result.stderr
        == "Error: invalid project name 'json': package 'json' would shadow the Python standard library module "
        "of that name; try 'my_json'\n"
    )
    assert list(tmp_path.iterdir()) == []
