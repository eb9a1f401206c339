"""The dev server under hostile conditions: a foreign Host asking for the traceback page, no file
descriptors left to accept with."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from serve.devserver import DevServer

pytestmark = pytest.mark.slow
SECRET = "sk-live-do-not-leak-0123"


def fetch(server: DevServer, host: str) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", "/", headers={"Host": host})
        response = conn.getresponse()
        body = response.read().decode("utf-8", "replace")
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


def test_the_traceback_page_is_served_only_to_local_or_allowed_host_names(
    plain_app: Path, start_server: Callable[..., DevServer]
) -> None:
    (plain_app / "plain_handlers.py").write_text(f"API_KEY = {SECRET!r}\nraise RuntimeError(API_KEY)\n")
    server = start_server(plain_app, "--app", "plain_app:make_app")
    server.wait_for("/", lambda r: r.status == 500, timeout=30)
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}", f"[::1]:{server.port}"):
        status, headers, body = fetch(server, host)
        assert status == 500 and SECRET in body, host
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in headers["content-security-policy"]
    status, headers, body = fetch(server, f"attacker.example:{server.port}")
    assert status == 400
    assert SECRET not in body and "Traceback" not in body
    assert headers["x-content-type-options"] == "nosniff"


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0  # utime + stime, in clock ticks of 1/100 s


def test_running_out_of_file_descriptors_pauses_accepting_instead_of_spinning(
    plain_app: Path, start_server: Callable[..., DevServer]
) -> None:
    server = start_server(plain_app, "--app", "plain_app:make_app", open_files=256)
    pid = server.wait_for("/", lambda r: r.status == 200, timeout=30).pid
    assert pid is not None
    idle: list[socket.socket] = []
    try:
        for _ in range(300):
            idle.append(socket.create_connection(("127.0.0.1", server.port), timeout=5))
        time.sleep(0.5)
        before = _cpu_seconds(pid)
        time.sleep(2.0)
        used = _cpu_seconds(pid) - before
        assert used < 0.2, f"the app process used {used:.2f} s of CPU in 2 s while out of file descriptors"
        assert server.count(r"cannot accept connections \(Too many open files\)") == 1
        assert "Traceback" not in server.log()
    finally:
        for sock in idle:
            sock.close()
    assert server.wait_for("/", lambda r: r.status == 200, timeout=30).pid == pid
    server.wait_for_log(r"accepting connections again")
