"""`tkit serve` on a copy of a generated project: reloads, no failed request, error page, ignores.

One dev server for the whole module, started on the project's own app (from [tool.tkit]) wrapped with
probe routes whose handler file the tests rewrite.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve.devserver import DevServer, Response, add_probe, copy_project, probe_source
from support import alive

pytestmark = pytest.mark.slow
VERSION = "/tkit-probe/version"
RELOADED = r"^Reloaded .*tkit_probe\.py in \d+ ms \[pid \d+\]$"


@pytest.fixture(scope="module")
def site(generated_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(generated_project, tmp_path_factory.mktemp("reload") / "site")


@pytest.fixture(scope="module")
def handler(site: Path) -> Path:
    return add_probe(site, "v0")


@pytest.fixture(scope="module")
def server(site: Path, handler: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    dev = DevServer(site, ["--app", "tkit_probe_app:make_app"], tmp_path_factory.mktemp("logs"))
    try:
        dev.wait_for(VERSION, lambda r: r.status == 200 and r.body == "v0", timeout=60)
        yield dev
    finally:
        dev.stop()


def publish(server: DevServer, handler: Path, version: str) -> Response:
    """Rewrite the handler file and wait for the first response carrying the new code."""
    handler.write_text(probe_source(version))
    return server.wait_for(VERSION, lambda r: r.status == 200 and r.body == version)


def test_banner_names_url_version_and_what_is_watched(server: DevServer) -> None:
    log = server.log()
    assert f"Listening on http://127.0.0.1:{server.port}/" in log
    assert re.search(r"^tkit \d+\.\d+\.\d+ dev server: tkit_probe_app:make_app$", log, re.MULTILINE)
    assert re.search(r"Reload on: watching \., .*mysite/.* with inotify", log)
    assert "\x1b[" not in log, "no colour codes when output is not a terminal"


def test_project_pages_are_served_with_the_dev_pid_header(server: DevServer) -> None:
    response = server.get("/login")
    assert response.status == 200, response.body[:2000]
    assert response.pid is not None and response.pid != server.proc.pid
    server.wait_for_log(r"^  200 GET /login \d+\.\d ms$")  # one request log line: status, path, time


def test_editing_a_handler_serves_the_new_code_from_a_new_process(server: DevServer, handler: Path) -> None:
    before = server.get(VERSION)
    reloads = server.count(RELOADED)
    after = publish(server, handler, "v-edit")
    assert after.pid != before.pid
    server.wait_for_log(RELOADED, reloads + 1)
    assert not _alive_later(before.pid), "the old app process was stopped"


def _alive_later(pid: int | None, wait: float = 6.0) -> bool:

    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if pid is None or not alive(pid):
            return False
        time.sleep(0.05)
    return True


def test_a_client_loop_sees_no_failure_during_reloads(server: DevServer, handler: Path) -> None:
    failures: list[str] = []
    seen: set[str] = set()
    done = threading.Event()
    count = 0

    def client() -> None:
        nonlocal count
        while not done.is_set() and count < 20000:
            try:
                response = server.get(VERSION)
                if response.status != 200:
                    failures.append(f"{response.status}: {response.body[:200]}")
                seen.add(response.body)
            except OSError as exc:
                failures.append(repr(exc))
            count += 1
            time.sleep(0.002)

    threads = [threading.Thread(target=client) for _ in range(3)]  # concurrent clients catch accept races
    for thread in threads:
        thread.start()
    try:
        for n in range(8):
            publish(server, handler, f"v-loop-{n}")
            time.sleep(0.05)
    finally:
        done.set()
        for thread in threads:
            thread.join(timeout=30)
    assert failures == []
    assert {f"v-loop-{n}" for n in range(8)} <= seen
    assert count > 50


def test_syntax_error_gives_traceback_page_then_the_fix_restores_service(server: DevServer, handler: Path) -> None:
    handler.write_text(probe_source("v-good").replace("VERSION = 'v-good'", "VERSION = '<script>alert(1)</script>' +"))
    page = server.wait_for(VERSION, lambda r: r.status == 500)
    assert "App failed to load" in page.body
    assert "SyntaxError" in page.body and "tkit_probe.py" in page.body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.body and "<script>alert" not in page.body
    assert server.get("/login").status == 500, "every URL shows the error page"
    assert "SyntaxError" in server.log(), "the traceback is printed in the terminal too"
    publish(server, handler, "v-fixed")
    # the broken process accepts until its SIGTERM lands, a moment after the new one started accepting
    server.wait_for("/login", lambda r: r.status == 200)


def test_exception_in_the_factory_gives_the_error_page(server: DevServer, site: Path, handler: Path) -> None:
    probe_app = site / "tkit_probe_app.py"
    original = probe_app.read_text()
    probe_app.write_text(original.replace("def make_app():", "def make_app():\n    raise RuntimeError('factory-boom')"))
    try:
        page = server.wait_for(VERSION, lambda r: r.status == 500)
        assert "RuntimeError: factory-boom" in page.body
    finally:
        probe_app.write_text(original)
    server.wait_for(VERSION, lambda r: r.status == 200)


def test_template_edit_shows_without_a_restart(server: DevServer, site: Path, handler: Path) -> None:
    template = handler.parent / "tkit_probe_templates" / "probe.html"
    template.write_text("<p>tpl-1</p>\n")
    first = server.wait_for("/tkit-probe/page", lambda r: "tpl-1" in r.body)
    reloads = server.count(r"^Reloaded ")
    template.write_text("<p>tpl-2</p>\n")
    second = server.wait_for("/tkit-probe/page", lambda r: "tpl-2" in r.body, timeout=5)
    assert second.pid == first.pid, "a template edit needs no new app process"
    time.sleep(0.5)
    assert server.count(r"^Reloaded ") == reloads


def test_static_file_edit_changes_its_versioned_url_without_a_restart(server: DevServer, site: Path) -> None:
    from tornado_kit.project import load_project

    static_dir = load_project(site).static_dir
    assert static_dir is not None and static_dir.is_dir()
    css = static_dir / "tkit-probe.css"
    css.write_text("body { color: red }\n")
    first = server.wait_for("/tkit-probe/static-url", lambda r: r.status == 200 and "?v=" in r.body)
    css.write_text("body { color: blue }\n")
    second = server.wait_for("/tkit-probe/static-url", lambda r: r.body != first.body, timeout=5)
    assert second.pid == first.pid, "static hashes are recomputed per request, no new process"
    assert server.get(second.body).body == "body { color: blue }\n"


def test_database_pyc_log_and_swap_writes_trigger_nothing(server: DevServer, site: Path, handler: Path) -> None:
    pid = server.get(VERSION).pid
    reloads = server.count(r"^Reloaded ")
    package = handler.parent
    # the app itself writes var/mysite.sqlite3 on every start (a loop would show in the counts); these
    # names are like it, so the live database is left alone
    for relative in ("var/probe.sqlite3", "var/probe.sqlite3-wal", "probe.db-journal", "server.log"):
        (site / relative).parent.mkdir(exist_ok=True)
        (site / relative).write_bytes(b"SQLite format 3\x00" + bytes(100))
    (package / "__pycache__").mkdir(exist_ok=True)
    (package / "__pycache__" / "tkit_probe.cpython-311.pyc").write_bytes(b"\x00" * 64)
    (package / ".tkit_probe.py.swp").write_bytes(b"swap")
    (package / "tkit_probe.py~").write_text("backup")
    time.sleep(1.5)
    assert server.count(r"^Reloaded ") == reloads
    assert server.get(VERSION).pid == pid
    publish(server, handler, "v-after-ignored")  # the watcher was alive all along
    assert server.get(VERSION).pid != pid


def test_env_change_reloads(server: DevServer, site: Path) -> None:
    pid = server.get(VERSION).pid
    env = site / ".env"
    env.write_text(env.read_text() + "# touched by test\n")
    server.wait_for(VERSION, lambda r: r.status == 200 and r.pid != pid)
    server.wait_for_log(r"^Reloaded \.env in \d+ ms")  # printed once the new process serves: maybe just after


def test_runtime_crash_restarts_the_app_with_the_error_shown(server: DevServer) -> None:
    pid = server.get(VERSION).pid
    with pytest.raises(OSError):
        server.get("/tkit-probe/crash", timeout=5)
    back = server.wait_for(VERSION, lambda r: r.status == 200)
    assert back.pid != pid
    # the standby app process may answer before the parent has reaped and reported the old one
    server.wait_for_log(re.escape(f"The app process {pid} exited with status 3; restarting in"))
