"""`tkit serve` keeps the development database at head while it serves: a migration that appears (here from
`tkit generate resource`) is applied before the new app process starts, a code change runs none, and a
migration that fails is one line while the app keeps serving."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from serve.devserver import DevServer, copy_project
from support import run_tkit

from tornado_kit.serve.config import ServeConfig
from tornado_kit.serve.migrations import may_be_behind

MIGRATED = r"^tkit serve: migrated the database from "

FAILING_MIGRATION = '''"""A migration that fails."""

revision = "f00dfa11"
down_revision = {down!r}


def upgrade() -> None:
    raise RuntimeError("this migration always fails")


def downgrade() -> None:
    pass
'''


def test_only_migrations_and_settings_can_leave_the_database_behind(generated_project: Path) -> None:
    root = generated_project
    config = ServeConfig("mysite.app:make_app", root, root, root, root, "mysite")
    assert may_be_behind(config, [root / "migrations" / "versions" / "0002_pinned.py"])
    assert may_be_behind(config, [root / "mysite" / "urls.py", root / ".env"])
    assert not may_be_behind(config, [root / "mysite" / "urls.py", root / "mysite" / "tables.py"])
    assert not may_be_behind(config, [root / "migrations.py", root / "mysite" / "migrations" / "x.py"])
    plain = ServeConfig("app:make_app", root, root, root, None, None)  # --app outside a tkit project
    assert not may_be_behind(plain, [root / "migrations" / "versions" / "0002_pinned.py"])


@pytest.mark.slow
def test_a_resource_generated_while_serving_is_migrated_before_it_is_served(
    generated_project: Path, tmp_path: Path, start_server: Callable[..., DevServer]
) -> None:
    project = copy_project(generated_project, tmp_path / "site")
    server = start_server(project)
    server.wait_for("/login", lambda response: response.status == 200, timeout=60)
    server.wait_for_log(r"^Ready in ")
    assert server.count(MIGRATED) == 1
    assert server.get("/tags").status == 404

    generated = run_tkit(project, "generate", "resource", "tag", "label:str(40)", "--no-auth")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    seen: list[int] = []

    def listed(response: object) -> bool:
        status = getattr(response, "status", 0)
        seen.append(status)
        return bool(status == 200)

    page = server.wait_for("/tags", listed, timeout=60)
    assert "No tags yet." in page.body
    assert set(seen) <= {404, 200}, f"an app process served the new code before its table existed: {seen}"
    server.wait_for_log(r"^Reloaded .* in \d+ ms \[pid \d+\]")
    assert server.count(MIGRATED + r"0001 to \w+$") == 1, server.log()

    # a code change: a new app process, no migration run
    reloads = server.count(r"^Reloaded ")
    handlers = project / "mysite" / "handlers" / "tags.py"
    handlers.write_text(handlers.read_text() + "\n# edited\n")
    server.wait_for_log(r"^Reloaded ", at_least=reloads + 1, timeout=30)
    assert server.count(r"^tkit serve: ") == 2, server.log()

    # a migration that fails: one line, and the app keeps serving
    head = re.match(r"[0-9a-f]+", next((project / "migrations" / "versions").glob("*_create_tags.py")).name)
    assert head is not None
    failing = project / "migrations" / "versions" / "f00dfa11_always_fails.py"
    failing.write_text(FAILING_MIGRATION.format(down=head.group()))
    server.wait_for_log(r"^tkit serve: migrations not applied: .*this migration always fails$", timeout=60)
    server.wait_for_log(r"^Reloaded ", at_least=reloads + 2, timeout=30)
    assert server.wait_for("/tags", lambda response: response.status == 200).status == 200
    assert "Traceback" not in server.log()
