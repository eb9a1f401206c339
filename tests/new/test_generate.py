"""What `tkit new` writes: per-project secrets in a 0600 .env, feature flags reaching the skeleton,
the report, and --git with .env kept out of the repository."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest
from click.testing import Result

from tornado_kit import writer
from tornado_kit.new import new_project
from tornado_kit.new import skeleton as project_skeleton
from tornado_kit.new.skeleton import excluded_files, output_path
from tornado_kit.templates import templates_root

Run = Callable[..., Result]
DATA_LAYER = ["tornado>=6.6", "sqlalchemy[asyncio]>=2.0.30", "alembic>=1.16"]


def secret_of(root: Path) -> str:
    match = re.search(r"^COOKIE_SECRET=(\S+)$", (root / ".env").read_text(), re.MULTILINE)
    assert match, "no COOKIE_SECRET in .env"
    return match.group(1)


def test_env_is_created_0600_from_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: dict[str, tuple[int, int]] = {}
    real_open = os.open

    def spy(path: str | os.PathLike[str], flags: int, mode: int = 0o777, **kwargs: object) -> int:
        opened[os.path.basename(path)] = (flags, mode)
        return real_open(path, flags, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(writer.os, "open", spy)
    old_umask = os.umask(0)  # a chmod-after-writing bug would show a wider mode here
    try:
        project = new_project("mysite", tmp_path / "mysite")
    finally:
        os.umask(old_umask)
    flags, mode = opened[".env"]
    assert mode == 0o600 and flags & os.O_EXCL and flags & os.O_NOFOLLOW
    assert stat.S_IMODE((project.root / ".env").stat().st_mode) == 0o600
    assert stat.S_IMODE((project.root / "pyproject.toml").stat().st_mode) == 0o644


def test_every_project_gets_its_own_secret_kept_out_of_other_files(tmp_path: Path) -> None:
    first = new_project("mysite", tmp_path / "a").root
    second = new_project("mysite", tmp_path / "b").root
    secret = secret_of(first)
    assert secret != secret_of(second)
    assert len(secret) >= 43  # token_urlsafe of at least 32 bytes
    leaks = [p for p in first.rglob("*") if p.is_file() and p.name != ".env" and secret.encode() in p.read_bytes()]
    assert leaks == []
    assert ".env" in (first / ".gitignore").read_text().split()


def test_no_websocket_leaves_out_the_websocket_files(tmp_path: Path) -> None:
    with_ws = {p.relative_to(tmp_path / "a") for p in new_project("mysite", tmp_path / "a").files}
    without = {p.relative_to(tmp_path / "b") for p in new_project("mysite", tmp_path / "b", websocket=False).files}
    manifest = templates_root() / "project-features.toml"
    listed = {
        Path(output_path(PurePosixPath(f), "mysite"))
        for f in excluded_files({"websocket": False}, manifest.read_bytes())
    }
    expected = listed & with_ws  # the manifest may name files the skeleton does not have yet
    assert expected, "the websocket feature has no files to leave out"
    assert with_ws - without == expected


@pytest.fixture
def context_skeleton(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A one-file skeleton that prints the render context, to check each flag reaches the templates."""
    root = tmp_path / "skeleton"
    (root / "project" / "__package__").mkdir(parents=True)
    (root / "project" / "__package__" / "context.txt.jinja").write_text(
        "[[ name ]] [[ package ]] auth=[[ auth ]] websocket=[[ websocket ]] redis=[[ redis ]] [[ tkit_version ]]\n"
    )
    monkeypatch.setattr(project_skeleton, "templates_root", lambda: root)
    return root


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((), "auth=True websocket=True redis=False"),
        (("--no-auth",), "auth=False websocket=True redis=False"),
        (("--no-websocket", "--redis"), "auth=True websocket=False redis=True"),
    ],
)
def test_flags_reach_the_render_context(
    flags: tuple[str, ...], expected: str, context_skeleton: Path, workdir: Path, tkit: Run
) -> None:
    result = tkit("new", "my-site", *flags)
    assert result.exit_code == 0, result.output
    text = (workdir / "my-site" / "my_site" / "context.txt").read_text()
    assert text.startswith("my-site my_site ") and expected in text


def test_report_shows_a_short_tree_and_next_steps(workdir: Path, tkit: Run) -> None:
    result = tkit("new", "mysite", "my projects/site")
    assert result.exit_code == 0, result.output
    assert "Created my projects/site/" in result.stdout
    assert re.search(r"^  mysite/ +\(\d+ files\)$", result.stdout, re.MULTILINE)
    assert "  .env\n" in result.stdout and "  pyproject.toml\n" in result.stdout
    assert "cd 'my projects/site' && pip install -e . && tkit serve" in result.stdout


def test_git_makes_a_first_commit_without_the_secret(workdir: Path, tkit: Run) -> None:
    result = tkit("new", "mysite", "--git")
    assert result.exit_code == 0, result.output
    root = workdir / "mysite"
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout.split()
    on_disk = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts
    )
    assert sorted(tracked) == sorted(p for p in on_disk if p != ".env")
    assert ".env" in on_disk
    log = subprocess.run(["git", "log", "--oneline"], cwd=root, capture_output=True, text=True, check=True).stdout
    assert len(log.splitlines()) == 1
    status = subprocess.run(
        ["git", "status", "--porcelain", "--ignored"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert status.splitlines() == ["!! .env"]
    assert (
        secret_of(root)
        not in subprocess.run(["git", "log", "-p"], cwd=root, capture_output=True, text=True, check=True).stdout
    )


def test_git_into_an_existing_repository_commits_only_tkits_files(workdir: Path, tkit: Run) -> None:
    root = workdir / "mysite"
    root.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "--quiet"], cwd=root, check=True)
    (root / "notes.txt").write_text("the user's own work in progress\n")
    subprocess.run([*git, "add", "notes.txt"], cwd=root, check=True)
    result = tkit("new", "mysite", "--force", "--git")
    assert result.exit_code == 0, result.output
    committed = subprocess.run(
        ["git", "show", "--name-only", "--format=", "HEAD"], cwd=root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "pyproject.toml" in committed and "notes.txt" not in committed
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    ).stdout
    assert "A  notes.txt" in status.splitlines()  # still staged, as the user left it


def test_git_missing_warns_and_still_writes_the_project(
    workdir: Path, tkit: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(workdir.parent / "empty-bin"))
    result = tkit("new", "mysite", "--git")
    assert result.exit_code == 0, result.output
    assert "git is not installed" in result.stderr
    assert (workdir / "mysite" / "pyproject.toml").is_file() and not (workdir / "mysite" / ".git").exists()


def test_tkit_new_does_not_import_tornado_or_watchdog(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from tornado_kit.cli import main\n"
        "main(['new', 'mysite', '--dry-run'], standalone_mode=False)\n"
        "print(sorted(m for m in ('tornado', 'watchdog') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


@pytest.mark.parametrize(
    ("flags", "dependencies"),
    [
        ((), [*DATA_LAYER]),
        (("--redis",), [*DATA_LAYER, "redis>=5"]),
        (("--postgres",), [*DATA_LAYER, "asyncpg>=0.29"]),
    ],
)
def test_redis_and_postgres_flags_add_the_dependency(
    flags: tuple[str, ...], dependencies: list[str], workdir: Path, tkit: Run
) -> None:
    assert tkit("new", "mysite", *flags).exit_code == 0
    project = tomllib.loads((workdir / "mysite" / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == dependencies
