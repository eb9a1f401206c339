"""The TLS variant for real: nginx with a self-signed certificate in front of supervisor's workers."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterator

import pytest
from support import free_port_block

from deploy.harness import Deployment, self_signed_certificate
from deploy.projects import make_echo_project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Deployment, int]]:
    workdir = tmp_path_factory.mktemp("tls-deploy")
    project = make_echo_project(workdir / "echoapp")
    cert, key = self_signed_certificate(workdir, "localhost")
    https_port = free_port_block(1)
    tls = ["--tls-cert", str(cert), "--tls-key", str(key), "--https-port", str(https_port)]
    with Deployment.start(project, workdir, workers=1, extra_args=tls) as running:
        yield running, https_port


def tls_socket(port: int, server_name: str) -> ssl.SSLSocket:
    """A TLS connection to 127.0.0.1:port that asks for `server_name` (SNI), as a browser would."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # self-signed, made by the test
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30), server_hostname=server_name)


def https_get(port: int, host: str = "localhost", path: str = "/") -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=30)
    connection.sock = tls_socket(port, host)
    try:
        connection.request("GET", path, headers={"Host": f"{host}:{port}", "X-Scheme": "http"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_http_redirects_to_https(deployment: tuple[Deployment, int]) -> None:
    running, https_port = deployment
    connection = http.client.HTTPConnection("127.0.0.1", running.nginx.port, timeout=30)
    connection.request("GET", "/notes?x=1", headers={"Host": "localhost"})
    response = connection.getresponse()
    connection.close()
    assert response.status == 301
    assert response.getheader("Location") == f"https://localhost:{https_port}/notes?x=1"


def test_https_reaches_the_app_which_knows_it_runs_behind_https(deployment: tuple[Deployment, int]) -> None:
    _, https_port = deployment
    status, headers, body = https_get(https_port)
    seen = json.loads(body)
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert seen["protocol"] == "https"  # X-Scheme from nginx, not the client's "http"
    assert seen["https_env"] == "1"  # supervisor runs the workers with HTTPS=1: Secure cookies


def test_static_files_keep_hsts_next_to_their_own_headers(deployment: tuple[Deployment, int]) -> None:
    _, https_port = deployment
    status, headers, _ = https_get(https_port, path="/static/site.css")
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"  # not dropped by add_header
    assert headers["x-content-type-options"] == "nosniff"


def test_unknown_names_get_no_certificate(deployment: tuple[Deployment, int]) -> None:
    _, https_port = deployment
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        tls_socket(https_port, "evil.example").close()
    tls_socket(https_port, "localhost").close()
