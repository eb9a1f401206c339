"""`tkit generate` for real: a project from `tkit new` grows a page, a resource with every field type, a public
resource with one field and a WebSocket; then its own test suite, ruff (lint and format), `tkit check`,
`tkit routes --json` and a headless Chromium run on the result; then each is destroyed and the project's suite
still passes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
from pgcluster import Cluster
from support import free_port, launch_chromium, running_project

pytestmark = pytest.mark.slow  # no skip: CI installs chromium and playwright, and a skip would hide a failure

REPOSITORY = Path(__file__).resolve().parents[2]
PIP_CACHE = Path(os.environ.get("PIP_CACHE_DIR") or Path.home() / ".cache" / "pip")
FIELDS = [
    "title:str(120)",
    "summary:text?",
    "pages:int",
    "rating:float?",
    "finished:bool",
    "published:date?",
    "read_at:datetime?",
]
GENERATED = [
    ("page", "about"),
    ("websocket", "ticker"),
    ("resource", "book", *FIELDS),
    ("resource", "tag", "label:str(40)", "--no-auth"),  # no date or time field, no owner: other template branches
]
PASSWORD = "a long enough password 1"
TIMEOUT_MS = 20_000


@dataclass(frozen=True)
class Grown:
    """The project and the venv it and tkit are installed in."""

    root: Path
    python: Path
    env: dict[str, str]

    def run(
        self, *command: str, timeout: float = 300, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        environment = {**self.env, **(env or {})}
        return subprocess.run(
            command, cwd=self.root, env=environment, capture_output=True, text=True, timeout=timeout, check=False
        )

    def tkit(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.python), "-m", "tornado_kit", *args, timeout=timeout)

    def suite(self) -> None:
        result = self.run(str(self.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", timeout=900)
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        assert " passed" in result.stdout and " skipped" not in result.stdout


@pytest.fixture(scope="module")
def grown(tmp_path_factory: pytest.TempPathFactory) -> Grown:
    """`tkit new mysite`, installed with tkit into a fresh venv, then grown by the three generators."""
    from tornado_kit.new import new_project

    folder = tmp_path_factory.mktemp("grown")
    root = folder / "mysite"
    new_project("mysite", root)
    home = folder / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "PIP_CACHE_DIR": str(PIP_CACHE), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in ("PYTHONPATH", "VIRTUAL_ENV"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "venv", str(folder / "venv")], check=True, timeout=120)
    python = folder / "venv" / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "-q", "-e", str(REPOSITORY), "-e", ".[test]"]
    result = subprocess.run(install, cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    grown = Grown(root, python, env)
    for args in GENERATED:
        result = grown.tkit("g", *args)
        assert result.returncode == 0, result.stdout + result.stderr
    return grown


def test_the_grown_project_passes_its_suite_ruff_and_check(grown: Grown) -> None:
    grown.suite()
    for ruff in (("check",), ("format", "--check", "--diff")):  # generated code is written as ruff would write it
        result = grown.run(str(grown.python), "-m", "ruff", *ruff, "--no-cache", ".")
        assert result.returncode == 0, result.stdout[-6000:]
    result = grown.tkit("check")
    assert result.returncode == 0, result.stdout + result.stderr
    # the table definitions and the migrations (the generated one too) agree
    database = {"DATABASE_URL": f"sqlite:///{grown.root.parent / 'check.sqlite3'}"}
    for command in (("-m", "mysite", "migrate"), ("-m", "alembic", "check")):
        result = grown.run(str(grown.python), *command, env=database)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_generated_resources_pass_their_tests_on_postgresql(grown: Grown, postgres: Cluster) -> None:
    """Every field type, the paging and the id checks on a database server too (the grown project's suite ran on
    SQLite): asyncpg is what `tkit new --postgres` would have installed."""
    added = grown.run(str(grown.python), "-m", "pip", "install", "-q", "asyncpg")
    assert added.returncode == 0, added.stdout + added.stderr
    url = postgres.create_database(f"grown_{free_port()}")
    tests = ("tests/test_books.py", "tests/test_tags.py", "tests/test_notes.py")
    result = grown.run(
        str(grown.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests, env={"TEST_DATABASE_URL": url}
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " skipped" not in result.stdout


def test_routes_has_the_new_routes_with_their_flags(grown: Grown) -> None:
    result = grown.tkit("routes", "--json")
    assert result.returncode == 0, result.stderr
    routes = {route["name"]: route for route in json.loads(result.stdout)["routes"]}
    expected = {"about": False, "ticker": False, "ticker-socket": True}
    expected |= dict.fromkeys(("books", "new-book", "book", "edit-book", "delete-book", "api-books", "api-book"), False)
    for name, websocket in expected.items():
        assert set(routes[name]["login_required"]) >= set(routes[name]["methods"]) - {"OPTIONS"}, routes[name]
        assert routes[name]["websocket"] is websocket, routes[name]
    for name in ("tags", "new-tag", "tag", "edit-tag", "delete-tag", "api-tags", "api-tag"):
        assert routes[name]["login_required"] == [], routes[name]  # --no-auth
    assert routes["ticker-socket"]["pattern"] == "/ws/ticker"


@pytest.fixture(scope="module")
def site(grown: Grown, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m mysite` on a free port with a fresh, migrated database outside the project."""
    folder = tmp_path_factory.mktemp("site")
    env = {
        **grown.env,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "PYTHONUNBUFFERED": "1",
    }
    command = [str(grown.python), "-m", "mysite", "migrate"]
    migrate = subprocess.run(command, cwd=grown.root, env=env, capture_output=True, timeout=120, check=False)
    assert migrate.returncode == 0, migrate.stderr
    with running_project(grown.root, env, folder / "server.log", python=str(grown.python)) as (url, _):
        yield url


def test_a_browser_uses_the_generated_pages_and_socket(grown: Grown, site: str) -> None:
    with playwright_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            context = chromium.new_context(base_url=site)
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            sign_up(page)
            create_edit_list_and_delete(page)
            page.goto("/ticker")
            playwright_api.expect(page.locator("#ticker")).to_have_attribute("data-state", "open")
            page.fill("#ticker-input", "hello <b>socket</b>")
            page.press("#ticker-input", "Enter")
            playwright_api.expect(page.locator("#ticker .socket-reply")).to_have_text("hello <b>socket</b>")
            page.goto("/about")
            playwright_api.expect(page.locator("h1")).to_have_text("About")
            assert errors == [], errors
        finally:
            chromium.close()


def sign_up(page: playwright_api.Page) -> None:
    page.goto("/signup")
    page.fill("input[name=username]", "reader")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")


def create_edit_list_and_delete(page: playwright_api.Page) -> None:
    page.goto("/books")
    page.click("text=New book")
    page.fill("[name=title]", "Dune <i>")
    page.fill("[name=summary]", "Sand.")
    page.fill("[name=pages]", "412")
    page.fill("[name=rating]", "4.5")
    page.check("[name=finished]")
    page.fill("[name=published]", "1965-08-01")
    page.fill("[name=read_at]", "2024-01-31T12:30")
    with page.expect_navigation():
        page.click("form.stack [type=submit]")
    playwright_api.expect(page.locator("dl.record")).to_contain_text("Dune <i>")
    playwright_api.expect(page.locator("dl.record")).to_contain_text("1965-08-01")
    page.click("text=Edit")
    page.fill("[name=pages]", "500")
    with page.expect_navigation():
        page.click("form.stack [type=submit]")
    playwright_api.expect(page.locator("dl.record")).to_contain_text("500")
    page.goto("/books")
    playwright_api.expect(page.locator("table.records")).to_contain_text("Dune <i>")
    page.click("text=Dune <i>")
    with page.expect_navigation():
        page.click("form[action$='/delete'] [type=submit]")
    playwright_api.expect(page.locator("body")).to_contain_text("No books yet.")


def test_destroy_each_and_the_suite_still_passes(grown: Grown) -> None:
    for kind, name, *_ in GENERATED:
        result = grown.tkit("destroy", kind, name)
        assert result.returncode == 0, result.stdout + result.stderr
    assert not (grown.root / "mysite" / "handlers" / "about.py").exists()
    assert "ticker" not in (grown.root / "mysite" / "urls.py").read_text()
    assert "books" not in (grown.root / "mysite" / "tables.py").read_text()
    assert "tags" not in (grown.root / "mysite" / "tables.py").read_text()
    assert "kept, the migration may have run" in result.stderr
    grown.suite()
