"""`tkit serve` process lifecycle: plain apps via --app, Ctrl-C/SIGTERM/SIGKILL leave nothing behind,
port in use, --no-reload, and the default project found from its pyproject.toml."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from serve.devserver import DevServer, plain_handler
from support import alive, free_port, port_is_free

pytestmark = pytest.mark.slow
StartServer = Callable[..., DevServer]


def test_app_option_serves_and_reloads_a_plain_tornado_app(start_server: StartServer, plain_app: Path) -> None:
    server = start_server(plain_app, "--app", "plain_app:make_app")
    first = server.wait_for("/", lambda r: r.body == "plain-1")
    (plain_app / "plain_handlers.py").write_text(plain_handler("plain-2"))
    second = server.wait_for("/", lambda r: r.body == "plain-2")
    assert second.pid != first.pid
    server.wait_for_log("Reloaded plain_handlers.py in")  # the parent may print it just after the first answer
    assert "Reload on: watching . (*.py, .env) with inotify" in server.log()


def test_poll_option_reloads_too(start_server: StartServer, plain_app: Path) -> None:
    server = start_server(plain_app, "--app", "plain_app:make_app", "--poll")
    server.wait_for("/", lambda r: r.body == "plain-1")
    (plain_app / "plain_handlers.py").write_text(plain_handler("polled"))
    server.wait_for("/", lambda r: r.body == "polled")
    assert "with polling" in server.log()


def _running_tree(server: DevServer) -> set[int]:
    """The parent, fork server and app process, once all three exist."""
    server.wait_for("/", lambda r: r.status == 200)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        tree = server.tree()
        if len(tree) >= 3:
            return tree
        time.sleep(0.05)
    raise AssertionError(f"expected parent, fork server and app process, found {tree}")


@pytest.mark.parametrize(
    ("signum", "whole_group"),
    [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["ctrl-c", "sigterm-parent", "sigterm-group"],
)
def test_ctrl_c_or_sigterm_stops_everything_and_frees_the_port(
    start_server: StartServer, plain_app: Path, signum: int, whole_group: bool
) -> None:
    server = start_server(plain_app, "--app", "plain_app:make_app")
    tree = _running_tree(server)
    started = time.monotonic()
    if whole_group:
        os.killpg(server.proc.pid, signum)  # Ctrl-C (and `kill -TERM -PGID`) reach the whole group
    else:
        os.kill(server.proc.pid, signum)
    assert server.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5.0
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in tree if alive(pid)] == []
    assert port_is_free(server.port)


def test_sigkill_of_the_parent_takes_the_app_processes_down(start_server: StartServer, plain_app: Path) -> None:
    server = start_server(plain_app, "--app", "plain_app:make_app")
    tree = _running_tree(server)
    os.kill(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in tree) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [pid for pid in tree if alive(pid)] == [], "orphaned processes survived the parent"
    assert port_is_free(server.port)


def test_port_in_use_exits_1_with_one_line(plain_app: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "tornado_kit", "serve", "--port", str(port), "--app", "plain_app:make_app"],
            cwd=plain_app,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    assert result.returncode == 1
    assert time.monotonic() - started < 10
    assert result.stderr.strip().splitlines() == [
        f"Error: port {port} is already in use on 127.0.0.1; stop the other server or choose another with --port"
    ]
    assert "Traceback" not in result.stdout + result.stderr


def test_no_reload_serves_in_one_process_with_the_same_banner(start_server: StartServer, plain_app: Path) -> None:
    server = start_server(plain_app, "--app", "plain_app:make_app", "--no-reload")
    response = server.wait_for("/", lambda r: r.body == "plain-1")
    assert response.pid == server.proc.pid
    assert server.tree() == {server.proc.pid}
    assert "Reload off" in server.log() and f"http://127.0.0.1:{server.port}/" in server.log()
    (plain_app / "plain_handlers.py").write_text(plain_handler("plain-2"))
    time.sleep(1.0)
    assert server.get("/").body == "plain-1"
    server.wait_for_log(r"^  200 GET / \d+\.\d ms$")
    os.kill(server.proc.pid, signal.SIGINT)
    assert server.proc.wait(timeout=10) == 0
    assert port_is_free(server.port)


def test_default_project_serves_login_from_its_pyproject(start_server: StartServer, generated_project: Path) -> None:
    server = start_server(generated_project)
    response = server.wait_for("/login", lambda r: r.status != 500 or "App failed to load" not in r.body, timeout=60)
    assert response.status == 200, response.body[:3000]
    assert response.pid is not None


def test_outside_a_project_without_app_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tornado_kit", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "Error: no pyproject.toml with a [tool.tkit] table" in result.stderr
    assert "Traceback" not in result.stderr


def _read_terminal(cwd: Path, env_extra: dict[str, str], until: bytes, timeout: float = 30.0) -> bytes:
    """Run tkit serve on a pseudo-terminal (as a person would) until `until` shows; return what it printed."""
    master, slave = pty.openpty()
    env = {name: value for name, value in os.environ.items() if name != "NO_COLOR"}
    env.update(PYTHONUNBUFFERED="1", **env_extra)
    command = [sys.executable, "-m", "tornado_kit", "serve", "--port", str(free_port()), "--app", "plain_app:make_app"]
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave, start_new_session=True)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + timeout
        while until not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
        return seen
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        os.close(master)


def test_colour_on_a_terminal_and_none_with_no_color(plain_app: Path) -> None:
    coloured = _read_terminal(plain_app, {}, b"Ready in")
    assert b"Ready in" in coloured and b"\x1b[" in coloured
    assert b"\x1b]8;;http://127.0.0.1:" in coloured, "the URL is a clickable terminal link"
    plain = _read_terminal(plain_app, {"NO_COLOR": "1"}, b"Ready in")
    assert b"Ready in" in plain and b"\x1b[" not in plain and b"\x1b]8" not in plain


def test_watch_adds_a_folder_and_ignore_skips_matching_files(
    start_server: StartServer, plain_app: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    server = start_server(plain_app, "--app", "plain_app:make_app", "--watch", str(shared), "--ignore", "skip_*.py")
    pid = server.wait_for("/", lambda r: r.status == 200).pid
    (plain_app / "skip_me.py").write_text("X = 1\n")
    time.sleep(1.0)
    assert server.get("/").pid == pid and "Reloaded" not in server.log()
    (shared / "settings.yaml").write_text("debug: true\n")
    server.wait_for("/", lambda r: r.pid != pid)
    server.wait_for_log(r"^Reloaded .*settings\.yaml in \d+ ms")
    assert "also ignoring skip_*.py" in server.log()
