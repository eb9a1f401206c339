"""Two hosts for real: the generated project's workers on 127.0.0.2 and 127.0.0.3, each group run by its own
supervisord from the file `deploy-config --hosts 127.0.0.2,127.0.0.3` renders, behind one nginx, sharing one
PostgreSQL and one Redis. What one host does, the other sees: accounts, notes, logouts, chat. Then workers
started all at once on a fresh database, several times: none crashes."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pgcluster import Cluster
from scale.harness import Client, Process, RedisServer
from support import free_port, wait_for_http

from deploy.harness import Nginx, Supervisor, free_port_block, migrate_once, render_configs

pytestmark = pytest.mark.slow

HOSTS = ("127.0.0.2", "127.0.0.3")
PASSWORD = "correct horse battery staple 42"


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def project_on(folder: Path, database_url: str, redis_url: str) -> Path:
    """A generated project whose .env points at the shared database and Redis."""
    from tornado_kit.new import new_project

    project = folder / "mysite"
    new_project("mysite", project)
    allowed = ",".join(["localhost", "127.0.0.1", *HOSTS])
    with (project / ".env").open("a") as env:
        env.write(f"DATABASE_URL={database_url}\nREDIS_URL={redis_url}\nALLOWED_HOSTS={allowed}\n")
    return project


def test_two_hosts_share_accounts_notes_logouts_and_chat(tmp_path: Path, postgres: Cluster, redis: RedisServer) -> None:
    project = project_on(tmp_path, postgres.create_database("two_hosts"), redis.url)
    base_port, listen_port = free_port_block(2), free_port_block(1)
    out = tmp_path / "deploy"
    render = render_configs(project, out, 2, base_port, listen_port, tmp_path / "logs", ["--hosts", ",".join(HOSTS)])
    assert "python -m mysite migrate" in (out / "README.md").read_text()
    migrate_once(project)  # once per deploy, before the workers, as the README says
    supervisors = []
    for host in HOSTS:
        (tmp_path / host).mkdir()
        supervisors.append(Supervisor(tmp_path / host, [out / "supervisor" / f"mysite-{host}.conf"]))
    nginx = Nginx(tmp_path / "nginx", out / "nginx" / "mysite.conf", listen_port)
    try:
        for supervisor in supervisors:
            supervisor.start(expected=2)
        for host in HOSTS:
            for port in (base_port, base_port + 1):
                wait_for_http(f"http://{host}:{port}/login", timeout=60)
        nginx.start()
        assert wait_for_http(f"http://127.0.0.1:{listen_port}/login", timeout=30) == 200
        one, other = (f"http://{host}:{base_port}" for host in HOSTS)
        asyncio.run(across_hosts(one, other, f"http://{HOSTS[1]}:{base_port + 1}"))
    finally:
        nginx.stop()
        for supervisor in supervisors:
            supervisor.stop()
    assert render.returncode == 0


async def across_hosts(one: str, other: str, other_second_worker: str) -> None:
    """Sign up on one host, log in on the other; notes, logout and chat cross over."""
    alice, bob = Client(), Client()
    await alice.sign_up(one, "alice", PASSWORD)
    await bob.sign_up(other, "bob", PASSWORD)
    phone = Client()
    await phone.log_in(other, "alice", PASSWORD)  # alice's account, made through the other host
    assert await phone.signed_in(one) and await phone.signed_in(other_second_worker)

    created = await alice.submit(one, "/notes", title="shared across hosts", body="one database")
    assert created.code == 302
    listed = await phone.fetch(other + "/api/notes")
    assert [note["title"] for note in json.loads(listed.body)["notes"]] == ["shared across hosts"]

    reader = await bob.open_chat(other)
    speaker = await alice.open_chat(one)
    await speaker.say("hello from the first host")
    assert (await reader.receive("message"))["text"] == "hello from the first host"

    phone_socket = await phone.open_chat(other_second_worker)
    await phone.log_out(one)  # revoked on the other host too, and its socket there closes
    assert not await phone.signed_in(other)
    assert await phone_socket.closed() == 4001
    assert await alice.signed_in(other)  # her other session is untouched
    for socket in (reader, speaker, phone_socket):
        await socket.close()


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_four_workers_started_at_once_on_a_fresh_database_never_crash(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    from tornado_kit.new import new_project

    project = tmp_path / "mysite"
    new_project("mysite", project)
    for attempt in range(5):
        if kind == "postgresql":
            cluster: Cluster = request.getfixturevalue("postgres")
            url = cluster.create_database(f"at_once_{attempt}_{free_port()}")
        else:
            url = f"sqlite:///{tmp_path / f'fresh-{attempt}.sqlite3'}"
        env = {"DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
        migrated = subprocess.run(
            [sys.executable, "-m", "mysite", "migrate"],
            cwd=project,
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert migrated.returncode == 0, migrated.stderr
        ports = [free_port() for _ in range(4)]
        workers = [
            Process(
                [sys.executable, "-m", "mysite", "--port", str(port)],
                tmp_path / f"worker-{attempt}-{port}.log",
                cwd=project,
                env=env,
            )
            for port in ports
        ]
        try:
            for port in ports:
                assert wait_for_http(f"http://127.0.0.1:{port}/login", timeout=60) == 200
            assert all(worker.popen.poll() is None for worker in workers)
        finally:
            codes = [worker.stop() for worker in workers]
        logs = "".join(worker.output() for worker in workers)
        assert "Traceback" not in logs and "locked" not in logs, logs[-3000:]
        assert codes == [0, 0, 0, 0], logs[-3000:]
