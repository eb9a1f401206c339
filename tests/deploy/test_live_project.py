"""A generated project behind its own rendered configs, under real supervisord and nginx (2 workers):
pages, nginx-served static files, sign-up and login with the xsrf token, the chat WebSocket, the
client's address as the app sees it, a killed worker under load, and a drain on `supervisorctl stop`."""

from __future__ import annotations

import asyncio
import http.client
import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from support import close_websocket
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from deploy.harness import Deployment

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    from tornado_kit.new import new_project

    workdir = tmp_path_factory.mktemp("project-deploy")
    project = workdir / "mysite"
    new_project("mysite", project)  # its own copy: the workers write their database into it
    with Deployment.start(project, workdir, workers=2) as running:
        yield running


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """A cookie-keeping client that does not follow redirects, so each answer can be checked."""

    def __init__(self, base: str) -> None:
        self.base, self.cookies = base, http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect)

    def request(self, path: str, form: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=data), timeout=60) as response:
                return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read().decode()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name)  # type: ignore[return-value]

    def submit(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """GET the form (for its xsrf cookie), then POST it with the token."""
        status, _, _ = self.request(path)
        assert status == 200
        return self.request(path, {**fields, "_xsrf": self.cookie("_xsrf")})


@pytest.fixture(scope="module")
def user(deployment: Deployment) -> str:
    return sign_up(deployment)


def sign_up(deployment: Deployment) -> str:
    """A new account, signed up through nginx; its username."""
    name = "user" + secrets.token_hex(3)
    status, headers, body = Browser(deployment.url).submit("/signup", {"username": name, "password": PASSWORD})
    assert status == 302, body
    assert headers["location"] == "/"
    return name


def test_pages_through_nginx(deployment: Deployment) -> None:
    status, headers, body = Browser(deployment.url).request("/login")
    assert status == 200 and 'name="password"' in body
    assert headers["server"] == "nginx"
    status, headers, _ = Browser(deployment.url).request("/notes")
    assert status == 302 and headers["location"].startswith("/login?next=")


def test_static_file_served_by_nginx_with_cache_headers(deployment: Deployment) -> None:
    _, _, page = Browser(deployment.url).request("/login")
    versioned = re.search(r'href="(/static/style\.css\?v=[0-9a-f]+)"', page)
    assert versioned, "the page links its stylesheet through static_url()"
    status, headers, body = Browser(deployment.url).request(versioned.group(1))
    assert status == 200
    assert body == (deployment.project / "mysite" / "static" / "style.css").read_text()
    assert headers["cache-control"] == "max-age=31536000"
    assert "etag" in headers and headers["server"] == "nginx"
    status, headers, _ = Browser(deployment.url).request("/static/favicon.svg")
    assert status == 200 and headers["x-content-type-options"] == "nosniff"  # nginx's, the app's never run here


def test_sign_up_and_log_in_with_the_xsrf_token(deployment: Deployment, user: str) -> None:
    browser = Browser(deployment.url)
    status, headers, _ = browser.submit("/login", {"username": user, "password": PASSWORD, "next": "/notes"})
    assert status == 302 and headers["location"] == "/notes"
    status, _, body = browser.request("/")
    assert status == 200 and user in body
    refused = Browser(deployment.url)
    refused.request("/login")
    assert refused.request("/login", {"username": user, "password": PASSWORD})[0] == 403  # no _xsrf


def test_chat_over_websocket_through_nginx(deployment: Deployment, user: str) -> None:
    browser = Browser(deployment.url)
    assert browser.submit("/login", {"username": user, "password": PASSWORD})[0] == 302
    cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    asyncio.run(chat_roundtrip(deployment, cookie, user))


async def chat_roundtrip(deployment: Deployment, cookie: str, user: str) -> None:
    url = deployment.url.replace("http", "ws") + "/ws/chat"
    request = HTTPRequest(
        url, headers={"Cookie": cookie, "Origin": deployment.url}, connect_timeout=30, request_timeout=30
    )
    connection = await websocket_connect(request)
    try:
        welcome = json.loads(await asyncio.wait_for(connection.read_message(), 30))  # type: ignore[arg-type]
        assert welcome["type"] == "welcome" and welcome["user"] == user
        text = "hello via nginx " + secrets.token_hex(4)
        await connection.write_message(json.dumps({"type": "message", "text": text}))
        for _ in range(10):
            message = json.loads(await asyncio.wait_for(connection.read_message(), 30))  # type: ignore[arg-type]
            if message.get("type") == "message":
                break
        assert message["text"] == text and message["user"] == user
    finally:
        await close_websocket(connection)


def test_the_app_sees_the_clients_address_not_a_spoofed_one(deployment: Deployment) -> None:
    probe = secrets.token_hex(8)
    connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port, timeout=30)
    connection.request("GET", f"/login?probe={probe}", headers={"X-Real-IP": "6.6.6.6", "X-Forwarded-For": "6.6.6.6"})
    assert connection.getresponse().status == 200
    connection.close()
    deadline, line = time.monotonic() + 20, None
    while line is None and time.monotonic() < deadline:  # Tornado's access log: "200 GET /path (remote_ip) 1.2ms"
        logs = "".join(p.read_text(errors="replace") for p in (deployment.out.parent / "logs").glob("*.log"))
        line = next((entry for entry in logs.splitlines() if probe in entry), None)
        time.sleep(0.1)
    assert line is not None, "the request never reached a worker's log"
    assert f"GET /login?probe={probe} (127.0.0.1)" in line


def load(deployment: Deployment, stop: threading.Event, results: list[int]) -> None:
    """GET /login through nginx over a keep-alive connection until `stop` (at most 90 s)."""
    connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port, timeout=30)
    deadline = time.monotonic() + 90
    while not stop.is_set() and time.monotonic() < deadline:
        try:
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            results.append(response.status)
        except (OSError, http.client.HTTPException):
            results.append(-1)
            connection.close()
    connection.close()


def test_killing_a_worker_under_load_fails_no_request(deployment: Deployment) -> None:
    stop, results = threading.Event(), [[] for _ in range(4)]  # type: list[list[int]]
    threads = [threading.Thread(target=load, args=(deployment, stop, r)) for r in results]
    victim_name, victim_pid = min(deployment.supervisor.wait_running(2).items())
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.0)
        os.kill(victim_pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and deployment.supervisor.worker_pids().get(victim_name, victim_pid) == victim_pid
        ):
            time.sleep(0.2)
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    after = deployment.supervisor.wait_running(2)
    statuses = [status for r in results for status in r]
    assert after[victim_name] != victim_pid, "supervisor did not restart the killed worker"
    assert len(statuses) > 50
    assert set(statuses) == {200}, f"{len(statuses) - statuses.count(200)} of {len(statuses)} requests failed"


def test_supervisorctl_stop_lets_logins_in_flight_finish(deployment: Deployment) -> None:
    """Last: logins (scrypt, ~0.3 s of CPU each) are in flight on both workers when they are told to stop.

    One account per login: the app's throttle counts concurrent attempts on one account."""
    connections = []
    for user in [sign_up(deployment) for _ in range(6)]:
        browser = Browser(deployment.url)
        assert browser.request("/login")[0] == 200
        body = urllib.parse.urlencode({"username": user, "password": PASSWORD, "_xsrf": browser.cookie("_xsrf")})
        headers = {
            "Cookie": "; ".join(f"{c.name}={c.value}" for c in browser.cookies),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port, timeout=60)
        connections.append((connection, body, headers))
    for connection, body, headers in connections:  # every request is sent before the stop begins
        connection.request("POST", "/login", body=body, headers=headers)
    time.sleep(0.2)  # nginx has passed them on; the workers are hashing
    outcome: dict[str, subprocess.CompletedProcess[str]] = {}
    stopping = threading.Thread(target=lambda: outcome.update(stop=deployment.supervisor.ctl("stop", "mysite:*")))
    stopping.start()
    try:
        statuses = [connection.getresponse().status for connection, _, _ in connections]
        stopping.join(timeout=90)
        assert "stopped" in outcome["stop"].stdout, outcome["stop"].stdout + outcome["stop"].stderr
        assert statuses == [302] * len(connections)
    finally:
        stopping.join(timeout=90)
        for connection, _, _ in connections:
            connection.close()
        deployment.supervisor.ctl("start", "mysite:*")
        deployment.supervisor.wait_running(2)
