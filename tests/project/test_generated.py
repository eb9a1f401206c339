"""`tkit new` output for real: each variant is installed into a fresh venv, then its own test suite, `ruff check`
and `ruff format --check` run as subprocesses; plus checks that switched-off features leave no trace."""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import time
import tomllib
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from pgcluster import Cluster
from support import free_port, migrated_sqlite, wait_for_http

VARIANTS = {
    "default": {},
    "no-auth": {"auth": False},
    "no-websocket": {"websocket": False},
    "postgres": {"postgres": True},
}


@dataclass(frozen=True)
class Installed:
    """A generated project and the Python of the venv it is installed in."""

    root: Path
    python: Path
    env: dict[str, str]


def generate(directory: Path, **features: bool) -> Path:
    """Render a project named mysite into `directory`."""
    from tornado_kit.new import new_project

    root = directory / "mysite"
    new_project("mysite", root, **features)
    return root


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its output for the assertion message."""
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


# pip's cache outlives the session (the autouse fixture moves HOME later, so take it now): the variants'
# venvs download tornado, pytest and ruff once per machine, not once per run.
PIP_CACHE = Path(os.environ.get("PIP_CACHE_DIR") or Path.home() / ".cache" / "pip")


@pytest.fixture(scope="session", params=list(VARIANTS))
def installed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Generate the variant and `pip install -e '.[test]'` it into a fresh venv that sees only what it installs.

    No --system-site-packages: a tool the project's tests use must come from its own test extras, as on a
    new machine whose base interpreter has nothing installed.
    """
    folder = tmp_path_factory.mktemp(f"variant-{request.param}")
    root = generate(folder, **VARIANTS[request.param])
    home = folder / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PIP_CACHE_DIR": str(PIP_CACHE), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    result = run([str(python), "-m", "pip", "install", "-q", "-e", ".[test]"], root, env, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return Installed(root, python, env)


@pytest.mark.slow
def test_the_installed_package_comes_from_the_project(installed: Installed) -> None:
    elsewhere = Path(installed.env["HOME"])  # not the project's parent, where `mysite/` is a namespace package
    result = run([str(installed.python), "-c", "import mysite; print(mysite.__file__)"], elsewhere, installed.env, 60)
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == installed.root / "mysite" / "__init__.py"


@pytest.mark.slow
def test_the_venv_sees_only_what_it_installs(installed: Installed) -> None:
    # The base interpreter's site-packages (where this machine has pytest and libcst) must not be on the path:
    # a venv that leans on them finds tools a fresh machine lacks.
    probe = "import site, sys; print(sorted(set(site.getsitepackages([sys.base_prefix])) & set(sys.path)))"
    result = run([str(installed.python), "-c", probe], installed.root, installed.env, 60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stdout + result.stderr


def test_the_test_extras_install_the_tools_the_readme_names(generated_project: Path) -> None:
    extras = tomllib.loads((generated_project / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    tools = {re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0] for requirement in extras["test"]}
    readme = (generated_project / "README.md").read_text()
    assert {"pytest", "ruff"} <= tools
    assert "ruff check ." in readme and "pytest" in readme


@pytest.mark.slow
def test_its_own_test_suite_passes(installed: Installed) -> None:
    command = [str(installed.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = run(command, installed.root, installed.env, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert " skipped" not in result.stdout


@pytest.mark.slow
def test_its_own_test_suite_passes_on_postgresql(installed: Installed, postgres: Cluster) -> None:
    url = postgres.url("postgres")
    if "postgres" not in installed.root.parent.name:  # only `tkit new --postgres` installs the driver
        env = {**installed.env, "DATABASE_URL": url}
        refused = run([str(installed.python), "-m", "mysite", "migrate"], installed.root, env, 120)
        assert refused.returncode == 2
        assert refused.stderr.strip() == "error: DATABASE_URL needs the asyncpg package: pip install asyncpg"
        return
    url = postgres.create_database(f"suite_{installed.root.parent.name.replace('-', '_')}")
    env = {**installed.env, "TEST_DATABASE_URL": url}
    command = [str(installed.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    result = run(command, installed.root, env, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("installed", ["default"], indirect=True)  # the data layer is the same in every variant
def test_an_async_sqlite_driver_works_too(installed: Installed, tmp_path: Path) -> None:
    """`sqlite+aiosqlite://` takes SQLAlchemy's async engine, the PostgreSQL path, instead of the database thread."""
    added = run([str(installed.python), "-m", "pip", "install", "-q", "aiosqlite"], installed.root, installed.env, 300)
    assert added.returncode == 0, added.stderr[-2000:]
    url = f"sqlite+aiosqlite:///{tmp_path / 'async.sqlite3'}"
    probe = "import sys; from mysite.db import Database; d = Database(sys.argv[1]); print(type(d.engine).__name__)"
    engine = run([str(installed.python), "-c", probe, url], installed.root, installed.env, 60)
    assert engine.stdout.strip() == "AsyncEngine", engine.stdout + engine.stderr
    env = {**installed.env, "TEST_DATABASE_URL": url}
    files = ["tests/test_notes.py", "tests/test_auth.py", "tests/test_sessions.py"]
    result = run(
        [str(installed.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *files], installed.root, env, 600
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " skipped" not in result.stdout


@pytest.mark.slow
def test_alembic_check_finds_the_migrations_match_the_tables(installed: Installed, postgres: Cluster) -> None:
    databases = [f"sqlite:///{installed.root.parent / 'check.sqlite3'}"]
    if "postgres" in installed.root.parent.name:  # the variant with the PostgreSQL driver installed
        databases.append(postgres.create_database(f"check_{installed.root.parent.name.replace('-', '_')}"))
    for database in databases:
        env = {**installed.env, "DATABASE_URL": database}
        migrated = run([str(installed.python), "-m", "mysite", "migrate"], installed.root, env, 120)
        assert migrated.returncode == 0, migrated.stderr
        checked = run([str(installed.python), "-m", "alembic", "check"], installed.root, env, 120)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        assert "No new upgrade operations detected" in checked.stdout


@pytest.mark.slow
def test_ruff_check_and_format_find_nothing(installed: Installed) -> None:
    for ruff in (("check",), ("format", "--check", "--diff")):  # `ruff format` leaves a new project as it is
        command = [str(installed.python), "-m", "ruff", *ruff, "--no-cache", "."]
        result = run(command, installed.root, installed.env, 120)
        assert result.returncode == 0, result.stdout[-6000:]


def test_project_files_and_secrets(generated_project: Path) -> None:
    env_file = generated_project / ".env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert ".env" in (generated_project / ".gitignore").read_text().split()
    secret = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)["COOKIE_SECRET"]
    assert len(secret) >= 32
    example = (generated_project / ".env.example").read_text()
    assert all(line.endswith("=") for line in example.splitlines() if line and not line.startswith("#"))
    assert secret not in example
    assert "[tool.tkit]" in (generated_project / "pyproject.toml").read_text()


def test_each_project_gets_its_own_secret(tmp_path: Path) -> None:
    first, second = generate(tmp_path / "a"), generate(tmp_path / "b")
    assert (first / ".env").read_text() != (second / ".env").read_text()


def test_no_websocket_leaves_no_trace_of_the_chat(tmp_path: Path) -> None:
    root = generate(tmp_path, websocket=False)
    assert not (root / "mysite" / "chat.py").exists()
    assert not (root / "mysite" / "broadcast.py").exists()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".js", ".toml"):
            text = path.read_text().lower()
            assert "broadcast" not in text, path
            assert "/chat" not in text and "websocket" not in text.replace("websocket-paths = []", ""), path


def test_no_auth_leaves_no_login_or_sessions(tmp_path: Path) -> None:
    root = generate(tmp_path, auth=False)
    for name in ("accounts.py", "passwords.py", "throttle.py", "handlers/auth.py", "templates/login.html"):
        assert not (root / "mysite" / name).exists(), name
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html", ".js"):
            text = path.read_text()
            for word in ("SessionMixin", "login", "current_user", "password", "session_days"):
                assert word not in text, (path, word)


def test_templates_have_no_inline_scripts(generated_project: Path) -> None:
    for template in sorted((generated_project / "mysite" / "templates").glob("*.html")):
        text = template.read_text()
        assert "<script>" not in text, template
        assert " onclick=" not in text and " onload=" not in text, template
        if "<form" in text and 'method="post"' in text:
            assert "xsrf_form_html()" in text, template


@pytest.mark.slow
def test_python_m_serves_and_stops_on_sigterm(generated_project: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": migrated_sqlite(generated_project, tmp_path / "db.sqlite3"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SHUTDOWN_TIMEOUT": "30",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "mysite", "--port", str(port)],
        cwd=generated_project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert wait_for_http(f"http://127.0.0.1:{port}/login", timeout=30) == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as response:
            headers = response.headers
        assert "unsafe-inline" not in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert "Server" not in headers
        started = time.monotonic()
        os.killpg(server.pid, signal.SIGTERM)
        assert server.wait(timeout=15) == 0
        assert time.monotonic() - started < 10  # nothing in flight: no waiting for SHUTDOWN_TIMEOUT (30 s)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
        server.communicate(timeout=10)
