"""`--hosts` for real: two "hosts" on loopback (127.0.0.1 and 127.0.0.2), each running its own
supervisord with its own rendered file, behind one nginx upstream that spans both."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest
from support import free_port_block, wait_for_http

from deploy.harness import Nginx, Supervisor, render_configs
from deploy.projects import make_echo_project

pytestmark = pytest.mark.slow

HOSTS = ("127.0.0.1", "127.0.0.2")


def test_one_upstream_across_hosts_with_a_supervisor_file_each(tmp_path: Path) -> None:
    project = make_echo_project(tmp_path / "echoapp", env="REDIS_URL=redis://127.0.0.1:1/0\n")
    base_port, listen_port = free_port_block(2), free_port_block(1)
    out = tmp_path / "deploy"
    render = render_configs(project, out, 2, base_port, listen_port, tmp_path / "logs", ["--hosts", ",".join(HOSTS)])
    assert "firewall ports" in render.stderr
    supervisors = []
    for host in HOSTS:
        (tmp_path / host).mkdir()
        supervisors.append(Supervisor(tmp_path / host, [out / "supervisor" / f"echoapp-{host}.conf"]))
    nginx = Nginx(tmp_path / "nginx", out / "nginx" / "echoapp.conf", listen_port)
    try:
        for supervisor in supervisors:
            supervisor.start(expected=2)
        for host in HOSTS:
            for port in (base_port, base_port + 1):
                wait_for_http(f"http://{host}:{port}/", timeout=60)
        nginx.start()
        seen = set()
        for _ in range(12):
            connection = http.client.HTTPConnection("127.0.0.1", listen_port, timeout=30)
            connection.request("GET", "/")
            answer = json.loads(connection.getresponse().read())
            connection.close()
            seen.add((answer["bound"], answer["port"]))
        assert seen == {(host, port) for host in HOSTS for port in (base_port, base_port + 1)}
    finally:
        nginx.stop()
        for supervisor in supervisors:
            supervisor.stop()
