"""The rendered configs under real supervisord and nginx, in front of a tiny app that echoes what it
receives: proxy headers overwrite spoofed ones, nginx serves static files, WebSocket upgrade only on
the WebSocket paths, body limit, unknown hosts refused, a killed worker costs no request, stop drains."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import Iterator

import pytest
from support import close_websocket
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from deploy.harness import Deployment
from deploy.projects import make_echo_project

pytestmark = pytest.mark.slow

BODY_LIMIT = 4096


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    workdir = tmp_path_factory.mktemp("echo-deploy")
    project = make_echo_project(workdir / "echoapp", env=f"MAX_BODY_SIZE={BODY_LIMIT}\nSHUTDOWN_TIMEOUT=5\n")
    with Deployment.start(project, workdir, workers=2) as running:
        yield running


def get(deployment: Deployment, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_requests_reach_both_workers(deployment: Deployment) -> None:
    ports = {json.loads(get(deployment, "/")[2])["port"] for _ in range(6)}
    assert ports == {deployment.base_port, deployment.base_port + 1}


def test_client_address_and_scheme_cannot_be_spoofed(deployment: Deployment) -> None:
    spoofed = {"X-Real-IP": "6.6.6.6", "X-Forwarded-For": "6.6.6.6", "X-Scheme": "https", "X-Forwarded-Proto": "https"}
    status, headers, body = get(deployment, "/", spoofed)
    seen = json.loads(body)
    assert status == 200
    assert seen["remote_ip"] == "127.0.0.1"
    assert seen["protocol"] == "http"
    assert seen["host"] == f"127.0.0.1:{deployment.nginx.port}"  # not the default port: kept for Origin checks
    assert headers["server"] == "nginx"  # no version, and not Tornado's Server header


def test_unknown_host_never_reaches_the_app(deployment: Deployment) -> None:
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        get(deployment, "/", {"Host": "evil.example"})


def test_static_files_are_served_by_nginx_with_cache_headers(deployment: Deployment) -> None:
    css = (deployment.project / "echoapp" / "static" / "site.css").read_bytes()
    status, headers, body = get(deployment, "/static/site.css?v=0123abcd")
    assert status == 200 and body == css  # the app has no static handler: only nginx can serve this
    assert headers["cache-control"] == "max-age=31536000"
    assert headers["content-type"] == "text/css"
    _, headers, _ = get(deployment, "/static/site.css")
    assert headers["cache-control"] == "max-age=600"
    _, headers, body = get(deployment, "/static/site.css?v=1", {"Accept-Encoding": "gzip"})
    assert headers.get("content-encoding") == "gzip" and len(body) < len(css)


def test_static_files_carry_the_security_headers_that_make_sense_for_them(deployment: Deployment) -> None:
    for path, expected in (("/static/site.css", 200), ("/static/missing.svg", 404)):
        status, headers, _ = get(deployment, path)
        assert status == expected
        assert headers["x-content-type-options"] == "nosniff", headers
        assert (
            "sandbox" in headers["content-security-policy"] and "script-src" not in headers["content-security-policy"]
        )
        assert headers["referrer-policy"] == "same-origin"


def test_dotfiles_and_traversal_are_refused(deployment: Deployment) -> None:
    assert get(deployment, "/static/.hidden")[0] == 403
    assert get(deployment, "/.env")[0] == 403
    assert get(deployment, "/static../pyproject.toml")[0] in (400, 404)


def test_body_limit_is_the_apps_max_body_size(deployment: Deployment) -> None:
    def post(size: int) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port, timeout=30)
        connection.request("POST", "/upload", body=b"x" * size)
        status = connection.getresponse().status
        connection.close()
        return status

    assert post(BODY_LIMIT) == 200
    assert post(BODY_LIMIT + 1) == 413


def test_websocket_through_nginx_only_on_websocket_paths(deployment: Deployment) -> None:
    asyncio.run(check_websockets(deployment))


async def check_websockets(deployment: Deployment) -> None:
    ws_url = deployment.url.replace("http", "ws")
    connection = await websocket_connect(
        HTTPRequest(f"{ws_url}/ws/echo", headers={"Origin": deployment.url}, connect_timeout=30)
    )
    try:
        await connection.write_message("hello")
        reply = json.loads(await connection.read_message())  # type: ignore[arg-type]
        assert reply["echo"] == "hello"
    finally:
        await close_websocket(connection)
    with pytest.raises(HTTPClientError) as refused:  # the app has a socket here, but nginx does not upgrade it
        await websocket_connect(
            HTTPRequest(f"{ws_url}/plain/echo", headers={"Origin": deployment.url}, connect_timeout=30)
        )
    assert refused.value.code == 400


def test_supervisorctl_stop_lets_in_flight_requests_finish(deployment: Deployment) -> None:
    """Last in the module: it stops the workers (and starts them again)."""
    connection = http.client.HTTPConnection("127.0.0.1", deployment.nginx.port, timeout=60)
    connection.request("GET", "/slow?seconds=3")  # sent before the stop begins
    time.sleep(0.5)  # now sleeping inside a worker
    started = time.monotonic()
    stopped = deployment.supervisor.ctl("stop", "echoapp:*", timeout=60)
    stop_took = time.monotonic() - started
    try:
        response = connection.getresponse()
        assert "stopped" in stopped.stdout, stopped.stdout + stopped.stderr
        assert response.status == 200
        assert json.loads(response.read())["done"] is True
        assert stop_took >= 1.0  # supervisor waited for the worker to drain instead of killing it
    finally:
        connection.close()
        deployment.supervisor.ctl("start", "echoapp:*")
        deployment.supervisor.wait_running(2)
