"""`tkit generate` / `tkit destroy` on real projects from `tkit new`: what is written, what is refused, and
that a dry run, a refusal or an interrupted run leaves the project exactly as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from support import take_snapshot

from tornado_kit.cli import main
from tornado_kit.new import new_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "mysite"
    new_project("mysite", root)
    monkeypatch.chdir(root)
    return root


def tkit(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_page_is_written_and_wired_in(project: Path) -> None:
    code, output = tkit("g", "page", "about")
    assert code == 0, output
    assert "create    mysite/handlers/about.py" in output
    urls = (project / "mysite/urls.py").read_text()
    assert "from .handlers.about import AboutHandler\n" in urls
    assert 'url(r"/about", AboutHandler, deps, name="about"),' in urls
    handler = (project / "mysite/handlers/about.py").read_text()
    assert "@tornado.web.authenticated" in handler
    manifest = json.loads((project / ".tkit/generated.json").read_text())
    assert set(manifest["generated"]["page about"]["files"]) == {
        "mysite/handlers/about.py",
        "mysite/templates/about.html",
        "tests/test_about.py",
    }


def test_public_page_has_no_login(project: Path) -> None:
    assert tkit("generate", "page", "pricing", "--public")[0] == 0
    assert "authenticated" not in (project / "mysite/handlers/pricing.py").read_text()


def test_dry_run_shows_the_diff_and_writes_nothing(project: Path) -> None:
    before = take_snapshot(project)
    code, output = tkit("g", "websocket", "ticker", "--dry-run")
    assert code == 0, output
    assert "modify    mysite/urls.py" in output
    assert '+        url(r"/ws/ticker", TickerSocketHandler, deps, name="ticker-socket"),' in output
    assert take_snapshot(project) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("page", "Bad-Name"), "invalid name"),
        (("page", "login"), "already has a route for /login"),
        (("page", "notes"), "already has mysite/notes.py"),
        (("page", "import"), "keyword"),
        (("websocket", "chat"), "already has mysite/chat.py"),
        (("page", "home"), "route named 'home'"),
    ],
)
def test_bad_names_exit_2_with_one_line_and_write_nothing(project: Path, args: tuple[str, ...], message: str) -> None:
    before = take_snapshot(project)
    code, output = tkit("g", *args)
    assert code == 2
    assert message in output
    assert len(output.strip().splitlines()) == 1
    assert take_snapshot(project) == before


def test_generating_twice_is_refused(project: Path) -> None:
    assert tkit("g", "page", "about")[0] == 0
    code, output = tkit("g", "page", "about")
    assert code == 2
    assert "destroy page about" in output


def test_existing_file_needs_force(project: Path) -> None:
    (project / "mysite/templates/about.html").write_text("mine\n")
    before = take_snapshot(project)
    code, output = tkit("g", "page", "about")
    assert code == 1
    assert "--force" in output
    assert take_snapshot(project) == before
    assert tkit("g", "page", "about", "--force")[0] == 0
    assert "mine" not in (project / "mysite/templates/about.html").read_text()


def test_url_map_of_another_shape_prints_the_lines_and_writes_nothing(project: Path) -> None:
    urls = project / "mysite/urls.py"
    urls.write_text(urls.read_text().replace("    return [", "    return _more() + ["))
    before = take_snapshot(project)
    code, output = tkit("g", "page", "about")
    assert code == 1
    assert "from .handlers.about import AboutHandler" in output
    assert 'url(r"/about", AboutHandler, name="about"),' in output
    assert take_snapshot(project) == before


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_interrupted_run_leaves_the_project_as_it_was(
    project: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException | type[BaseException]
) -> None:
    import tornado_kit.writer

    before = take_snapshot(project)
    real_move = tornado_kit.writer._move
    calls = {"n": 0}

    def failing_move(source: Path, destination: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 4:  # after the URL map or some new files are already in place
            raise failure
        real_move(source, destination)

    monkeypatch.setattr(tornado_kit.writer, "_move", failing_move)
    result = CliRunner().invoke(main, ["g", "websocket", "ticker"])
    assert result.exit_code != 0
    assert take_snapshot(project) == before


def test_destroy_removes_unchanged_files_and_keeps_changed_ones(project: Path) -> None:
    before = take_snapshot(project)
    assert tkit("g", "page", "about")[0] == 0
    assert tkit("g", "websocket", "ticker")[0] == 0
    assert tkit("destroy", "websocket", "ticker")[0] == 0
    template = project / "mysite/templates/about.html"
    template.write_text(template.read_text() + "<p>mine</p>\n")
    code, output = tkit("destroy", "page", "about")
    assert code == 0, output
    assert "mysite/templates/about.html: kept, changed since it was generated" in output
    after = take_snapshot(project)
    assert set(after) - set(before) == {"mysite/templates/about.html"}
    assert {k: v for k, v in after.items() if k in before} == before


def test_destroy_unknown_is_exit_2(project: Path) -> None:
    code, output = tkit("destroy", "page", "nothing")
    assert code == 2
    assert "no page 'nothing' was generated" in output


def test_websocket_on_a_project_without_the_chat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "plain"
    new_project("plain", root, websocket=False, auth=False)
    monkeypatch.chdir(root)
    code, output = tkit("g", "websocket", "ticker")
    assert code == 0, output
    assert 'websocket-paths = ["/ws/"]' in (root / "pyproject.toml").read_text()
    assert "websocket_ping_interval" in output
    source = (root / "plain/handlers/ticker.py").read_text()
    assert "class RateLimiter" in source
    assert "SessionMixin" not in source
    assert "no chat room" in output  # so per-socket limits, said out loud
    assert tkit("destroy", "websocket", "ticker")[0] == 0
    assert "websocket-paths = []" in (root / "pyproject.toml").read_text()


def test_websocket_joins_the_chat_room_as_the_chat_does(project: Path) -> None:
    assert tkit("g", "websocket", "ticker")[0] == 0
    source = (project / "mysite/handlers/ticker.py").read_text()
    assert "from ..chatroom import ChatRoom" in source
    assert "class RateLimiter" not in source and "RATE_BURST" not in source  # the room's budget, not a copy
    assert 'member = (("user", self.current_user.id), ("session", self.session.id_hash))' in source
    assert "self.room.allow_message(self.member[0])" in source and "self.room.leave(self" in source
    test = (project / "tests/test_ticker.py").read_text()
    assert "def test_sockets_of_one_user_share_one_message_budget" in test
    assert "def test_sockets_are_capped_per_session" in test


def test_public_websocket_is_keyed_by_client_address(project: Path) -> None:
    assert tkit("g", "websocket", "ticker", "--public")[0] == 0
    source = (project / "mysite/handlers/ticker.py").read_text()
    assert 'member = (("address", self.request.remote_ip), None)' in source
    assert "def test_sockets_are_capped_per_client_address" in (project / "tests/test_ticker.py").read_text()


def test_resource_needs_the_data_layer(project: Path) -> None:
    (project / "mysite/tables.py").unlink(missing_ok=True)
    before = take_snapshot(project)
    code, output = tkit("g", "resource", "book", "title:str(200)")
    assert code == 1
    assert "tables.py and migrations/versions/" in output
    assert take_snapshot(project) == before


def test_resource_fields_are_checked_before_anything_else(project: Path) -> None:
    before = take_snapshot(project)
    code, output = tkit("g", "resource", "book", "title:string")
    assert code == 2
    assert "unknown type 'string'" in output
    assert take_snapshot(project) == before


def test_the_websocket_prefix_stays_while_another_websocket_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "plain"
    new_project("plain", root, websocket=False)
    monkeypatch.chdir(root)
    assert tkit("g", "websocket", "ticker")[0] == 0
    assert tkit("g", "websocket", "pager")[0] == 0
    code, output = tkit("destroy", "websocket", "ticker")
    assert code == 0, output
    assert "which websocket pager needs" in output
    assert 'websocket-paths = ["/ws/"]' in (root / "pyproject.toml").read_text()


TABLES = '''"""Tables."""

from __future__ import annotations

from sqlalchemy import Column, Integer, MetaData, Table

metadata = MetaData()

users = Table("users", metadata, Column("id", Integer, primary_key=True))
'''
INITIAL = 'revision: str = "0001"\ndown_revision: str | None = None\n'


def with_data_layer(project: Path) -> None:
    """The parts of the SQLAlchemy + Alembic data layer the resource generator reads (no database needed)."""
    (project / "mysite/tables.py").write_text(TABLES)
    (project / "migrations/versions").mkdir(parents=True, exist_ok=True)
    (project / "migrations/versions/0001_initial.py").write_text(INITIAL)


def test_resource_writes_table_migration_and_routes_and_destroy_keeps_the_migration(project: Path) -> None:
    with_data_layer(project)
    before = take_snapshot(project)
    code, output = tkit("g", "resource", "person", "name:str(80)", "born:date?", "score:float")
    assert code == 0, output
    tables = (project / "mysite/tables.py").read_text()
    assert "from sqlalchemy import Column, Date, Float, ForeignKey, Index, Integer, MetaData, String, Table\n" in tables
    assert 'people = Table(\n    "people",' in tables
    assert 'Column("born", Date, nullable=True),' in tables
    migrations = list((project / "migrations/versions").glob("*_create_people.py"))
    assert len(migrations) == 1
    assert 'down_revision: str | None = "0001"' in migrations[0].read_text()
    urls = (project / "mysite/urls.py").read_text()
    assert 'url(r"/api/people/([0-9]{1,18})", PersonApiHandler, deps, name="api-person"),' in urls
    assert (project / "mysite/handlers/people.py").is_file()
    code, output = tkit("destroy", "resource", "person")
    assert code == 0, output
    assert f"{migrations[0].relative_to(project)}: kept, the migration may have run" in output
    after = take_snapshot(project)
    assert set(after) - set(before) == {str(migrations[0].relative_to(project))}
    assert {key: value for key, value in after.items() if key in before} == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "name:str(20)"), "already has a table 'users'"),
        (("book", "title:str(20)", "--plural", "Books"), "invalid plural"),
        (("sheep", "name:str(20)"), "--plural"),
    ],
)
def test_resource_name_clashes_exit_2(project: Path, args: tuple[str, ...], message: str) -> None:
    with_data_layer(project)
    before = take_snapshot(project)
    code, output = tkit("g", "resource", *args)
    assert code == 2, output
    assert message in output
    assert take_snapshot(project) == before


def test_resource_dry_run_diffs_tables_and_urls(project: Path) -> None:
    with_data_layer(project)
    before = take_snapshot(project)
    code, output = tkit("g", "resource", "book", "title:str(200)", "--dry-run")
    assert code == 0, output
    assert "modify    mysite/tables.py" in output
    assert "+books = Table(" in output
    assert "create    migrations/versions/" in output
    assert take_snapshot(project) == before


def test_resource_on_a_project_without_accounts_is_shared_and_public(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "plain"
    new_project("plain", root, auth=False)
    monkeypatch.chdir(root)
    code, output = tkit("g", "resource", "book", "title:str(200)")
    assert code == 0, output
    queries = (root / "plain/books.py").read_text()
    handlers = (root / "plain/handlers/books.py").read_text()
    assert "user_id" not in queries
    assert "authenticated" not in handlers and "current_user" not in handlers
    assert "ForeignKey" not in (root / "plain/tables.py").read_text().split("books = Table(")[1]


def test_destroy_refuses_a_manifest_naming_files_outside_the_project(project: Path) -> None:
    assert tkit("g", "page", "about")[0] == 0
    manifest = project / ".tkit/generated.json"
    outside = project.parent / "victim.txt"
    outside.write_text("keep me\n")
    data = json.loads(manifest.read_text())
    data["generated"]["page about"]["files"]["../victim.txt"] = hashlib.sha256(b"keep me\n").hexdigest()
    manifest.write_text(json.dumps(data))
    before = take_snapshot(project)
    code, output = tkit("destroy", "page", "about")
    assert code == 1
    assert "outside the project" in output
    assert outside.read_text() == "keep me\n"
    assert take_snapshot(project) == before


def test_interrupted_destroy_puts_everything_back(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tornado_kit.writer

    assert tkit("g", "websocket", "ticker")[0] == 0
    before = take_snapshot(project)
    real_move = tornado_kit.writer._move
    calls = {"n": 0}

    def failing_move(source: Path, destination: Path) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the deleted files are already aside and the URL map is being replaced
            raise KeyboardInterrupt
        real_move(source, destination)

    monkeypatch.setattr(tornado_kit.writer, "_move", failing_move)
    result = CliRunner().invoke(main, ["destroy", "websocket", "ticker"])
    assert result.exit_code != 0
    assert take_snapshot(project) == before
