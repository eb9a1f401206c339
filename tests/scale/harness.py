"""Real processes for scale-out tests and benchmarks: redis-server, project workers, and a chat client.

nginx and supervisord come from tests/deploy/harness.py (the configs `tkit deploy-config` renders)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from support import close_websocket, free_port, signal_group, wait_for_http, wait_for_port

TIMEOUT = 20.0  # seconds; generous, the machine is shared


class Process:
    """A subprocess in its own process group, stopped (TERM, then KILL) by group id only."""

    def __init__(
        self, argv: list[str], log: Path, cwd: Path | None = None, env: Mapping[str, str] | None = None
    ) -> None:
        self.log_path = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        """Signal the group, wait, then KILL what is left; returns the exit code."""
        if self.popen.poll() is None:
            signal_group(self.popen.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        signal_group(self.popen.pid, signal.SIGKILL)  # stragglers in the group, if any
        return self.popen.returncode

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


class RedisServer:
    """redis-server on a loopback port with persistence off; restartable on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None

    def start(self) -> None:
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.folder),
        ]
        self.process = Process(argv, self.folder / "redis.log")
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(signal.SIGKILL)
            self.process = None


def migrate(project: Path, env: Mapping[str, str]) -> None:
    """`python -m <package> migrate`, as a deploy does before starting workers (a no-op when up to date)."""
    command = [sys.executable, "-m", project.name.replace("-", "_"), "migrate"]
    result = subprocess.run(
        command, cwd=project, env={**os.environ, **env}, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert result.returncode == 0, result.stderr


def start_worker(project: Path, port: int, env: Mapping[str, str], log: Path) -> Process:
    """`python -m <package> --port P --xheaders` in the project folder, as a process manager would (after
    migrating the database, which the workers refuse to serve otherwise)."""
    migrate(project, env)
    argv = [
        sys.executable,
        "-m",
        project.name.replace("-", "_"),
        "--port",
        str(port),
        "--address",
        "127.0.0.1",
        "--xheaders",
    ]
    worker = Process(argv, log, cwd=project, env={"PYTHONUNBUFFERED": "1", **env})
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login", timeout=TIMEOUT)
    except TimeoutError:
        worker.stop()
        raise AssertionError(f"worker on {port} did not start:\n{worker.output()}") from None
    return worker


class ChatSocket:
    """A chat WebSocket client: send chat frames, wait for a given kind of message."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.upstream = connection.headers.get("X-Upstream", "")

    async def say(self, text: str, message_id: str = "") -> None:
        await self.connection.write_message(json.dumps({"type": "message", "text": text, "id": message_id}))

    async def receive(self, kind: str, timeout: float = TIMEOUT, **fields: Any) -> dict[str, Any]:
        """The next message of type `kind` whose `fields` match, skipping others; fails on close or timeout."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            raw = await asyncio.wait_for(self.connection.read_message(), left)
            if raw is None:
                raise AssertionError(f"socket closed ({self.connection.close_code} {self.connection.close_reason})")
            message = json.loads(raw)
            if message.get("type") == kind and all(message.get(k) == v for k, v in fields.items()):
                return message
        raise TimeoutError(f"no {kind} message {fields} within {timeout} s")

    async def closed(self, timeout: float = TIMEOUT) -> int | None:
        """Wait until the server closes the socket; its close code."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            if await asyncio.wait_for(self.connection.read_message(), left) is None:
                return int(self.connection.close_code or 0)
        raise TimeoutError("the socket stayed open")

    async def close(self) -> None:
        await close_websocket(self.connection)


class Client:
    """One user's cookie jar, used against any worker or proxy on 127.0.0.1 like a browser would."""

    def __init__(self) -> None:
        self.jar: SimpleCookie = SimpleCookie()

    def cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={m.value}" for k, m in self.jar.items())} if self.jar else {}

    async def fetch(self, url: str, method: str = "GET", fields: Mapping[str, str] | None = None) -> Any:
        from tornado.httpclient import AsyncHTTPClient

        body = urlencode(fields) if fields is not None else None
        response = await AsyncHTTPClient().fetch(
            url,
            method=method,
            body=body,
            headers=self.cookie_header(),
            follow_redirects=False,
            raise_error=False,
            request_timeout=TIMEOUT,
        )
        for header in response.headers.get_list("Set-Cookie"):
            self.jar.load(header)
        for name in [name for name, morsel in self.jar.items() if not morsel.value]:
            del self.jar[name]  # a cleared cookie (empty value, expired) is not sent again
        return response

    async def submit(self, base: str, path: str, **fields: str) -> Any:
        """GET the form (xsrf cookie), POST it with the token; the POST's response."""
        await self.fetch(base + path)
        return await self.fetch(base + path, "POST", {**fields, "_xsrf": self.jar["_xsrf"].value})

    async def sign_up(self, base: str, username: str, password: str) -> None:
        response = await self.submit(base, "/signup", username=username, password=password)
        assert response.code in (302, 303), (response.code, response.body[:300])

    async def log_in(self, base: str, username: str, password: str) -> None:
        response = await self.submit(base, "/login", username=username, password=password, next="/")
        assert response.code in (302, 303), (response.code, response.body[:300])

    async def log_out(self, base: str) -> None:
        response = await self.fetch(base + "/logout", "POST", {"_xsrf": self.jar["_xsrf"].value})
        assert response.code in (302, 303), (response.code, response.body[:300])

    async def signed_in(self, base: str) -> bool:
        """Whether the home page serves this client (200) rather than sending it to /login."""
        response = await self.fetch(base + "/")
        assert response.code in (200, 302), response.code
        return bool(response.code == 200)

    async def open_chat(self, base: str) -> ChatSocket:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = base.replace("http", "ws", 1) + "/ws/chat"
        socket = ChatSocket(
            await websocket_connect(HTTPRequest(url, headers=self.cookie_header(), connect_timeout=TIMEOUT))
        )
        await socket.receive("welcome")
        return socket
