"""Helpers shared by the whole suite (and the benchmarks): running the CLI, loopback ports, waiting for
servers, stopping the processes a test started, reading /proc, and whole-tree snapshots.

Harnesses tied to one area stay next to their tests: serve/devserver.py (a dev server subprocess),
deploy/harness.py (nginx + supervisord), scale/harness.py (redis and chat clients).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

Snapshot = dict[str, tuple[str, int, bytes]]

# Where each outside tool comes from on a fresh machine: a test that needs one fails (never skips) without it.
TOOL_SOURCES = {
    "gixy": "the test extras (pip install -e '.[test]')",
    **{name: ".ci/run (apt-get install)" for name in ("nginx", "supervisord", "redis-server", "git", "openssl", "wrk")},
}


def run_tkit(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """`python -m tornado_kit ARGS` in `cwd` as a user would run it: no colour, no bytecode written into
    the project, COOKIE_SECRET only from the project's own `.env`, plus `env`."""
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    if "COOKIE_SECRET" not in (env or {}):
        environment.pop("COOKIE_SECRET", None)
    return subprocess.run(
        [sys.executable, "-m", "tornado_kit", *args],
        check=False,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int, attempts: int = 50) -> int:
    """The first of `count` consecutive TCP ports on 127.0.0.1 that were free a moment ago."""
    for _ in range(attempts):
        base = free_port()
        if base + count <= 65535 and all(port_is_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no block of {count} free ports found")


def port_is_free(port: int) -> bool:
    """True when a server could listen on 127.0.0.1:port now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            return False
    return True


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Poll until something accepts TCP connections on 127.0.0.1:port; bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wait_for_http(url: str, timeout: float = 15.0) -> int:
    """Poll `url` until it answers with any HTTP status; return the status. Bounded by `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError as exc:
            last_error = exc
            time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s: {last_error}")


async def close_websocket(connection: Any, timeout: float = 10.0) -> None:
    """Close a Tornado WebSocket client and wait until its socket is shut.

    Tornado shuts the socket when the server answers the close frame (or 5 s later). An event loop that ends
    before then leaves the socket to the garbage collector, whose ResourceWarning fails some later test.
    """
    protocol = connection.protocol  # None once closed: close() drops it
    connection.close()
    if protocol is None:
        return
    deadline = time.monotonic() + timeout
    while not protocol.stream.closed():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the WebSocket stayed open {timeout} s after close()")
        await asyncio.sleep(0.01)


def signal_group(pid: int, sig: int) -> None:
    """Send `sig` to the process group `pid` leads (one a test started), if it still exists."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def stop_process_group(
    process: subprocess.Popen[bytes] | subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 15.0
) -> None:
    """Signal the process group a test started (start_new_session=True), wait, then SIGKILL what is left."""
    signal_group(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def descendants(root: int) -> set[int]:
    """All live descendants of `root`, from the ppid field of /proc/PID/stat."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _read_stat(int(entry.name))
            if fields:
                children.setdefault(int(fields[3]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _read_stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return [str(pid), "comm", *text[text.rindex(")") + 2 :].split()]  # [2] state, [3] ppid


def alive(pid: int) -> bool:
    """True if `pid` exists and is not a zombie."""
    fields = _read_stat(pid)
    return fields is not None and fields[2] != "Z"


def take_snapshot(root: Path) -> Snapshot:
    """Every entry under `root` (hidden ones too) with its kind, permission bits and content or link target,
    so a test can assert that a refused or failed run changed nothing."""
    entries: Snapshot = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            key = str(path.relative_to(root))
            if stat.S_ISLNK(info.st_mode):
                entries[key] = ("link", 0, os.readlink(path).encode())
            elif stat.S_ISDIR(info.st_mode):
                entries[key] = ("dir", stat.S_IMODE(info.st_mode), b"")
            else:
                entries[key] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
    return entries


def require_tool(name: str) -> str:
    """The path of an outside tool the suite uses: this venv's scripts, then PATH, then the sbin folders.

    A missing tool fails the test instead of skipping it, so a machine that lacks it cannot pass quietly."""
    found = (
        shutil.which(name, path=sysconfig.get_path("scripts"))
        or shutil.which(name)
        or shutil.which(name, path="/usr/local/sbin:/usr/sbin:/sbin")
    )
    if found is None:
        pytest.fail(f"{name} is not installed; it comes from {TOOL_SOURCES.get(name, '.ci/run')}")
    return found


def migrated_sqlite(project: Path, database: Path, package: str = "mysite", python: str | None = None) -> str:
    """`python -m PACKAGE migrate` on a fresh SQLite file (as a deploy does before starting workers); its URL."""
    import sys

    url = f"sqlite:///{database}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [python or sys.executable, "-m", package, "migrate"]
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return url


CHROMIUM = "/usr/bin/chromium"  # Debian's, installed by .ci/run; Playwright never downloads a browser here
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no connections to the outside (refused here, slow to fail)
    "--disable-component-update",
    "--disable-sync",
]


def launch_chromium(playwright: Any) -> Any:
    """Headless Debian Chromium through Playwright, with the flags every browser test and benchmark uses."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


@contextlib.contextmanager
def running_project(
    root: Path, env: Mapping[str, str], log: Path, python: str = sys.executable, package: str = "mysite"
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`python -m PACKAGE --port N` in `root` on a free loopback port, its output in `log`: yields the base URL and
    the process once /login answers, and stops the process group afterwards."""
    port = free_port()
    with log.open("wb") as output:
        server = subprocess.Popen(
            [python, "-m", package, "--port", str(port)],
            cwd=root,
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login", timeout=30)
        yield f"http://127.0.0.1:{port}", server
    finally:
        stop_process_group(server)
