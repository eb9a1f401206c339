"""Two real workers of a generated project behind real nginx, fanning chat out through a real redis-server."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from support import free_port

from scale.harness import (
    ChatSocket,
    Client,
    Process,
    RedisServer,
    start_nginx,
    start_worker,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("redis-server") and shutil.which("nginx")), reason="needs redis-server, nginx"),
]
PASSWORD = "correct horse battery staple"


@dataclass
class Cluster:
    """What the tests talk to: each worker directly, and nginx in front of both."""

    workers: list[str]
    proxy: str
    redis: RedisServer
    processes: list[Process] = field(default_factory=list)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from tornado_kit.api import new_project

    root = tmp_path_factory.mktemp("scale")
    project = root / "mysite"
    new_project("mysite", project, redis=True)
    redis = RedisServer(root)
    processes: list[Process] = []
    try:
        redis.start()
        ports = [free_port(), free_port()]
        for number, port in enumerate(ports, 1):
            env = {"REDIS_URL": redis.url}
            processes.append(start_worker(project, port, env, root / f"worker{number}.log"))
        nginx, proxy_port = start_nginx(root / "nginx", ports)
        processes.append(nginx)
        yield Cluster([f"http://127.0.0.1:{p}" for p in ports], f"http://127.0.0.1:{proxy_port}", redis, processes)
    finally:
        for process in reversed(processes):
            process.stop()
        redis.stop()


async def signed_up(base: str, username: str) -> Client:
    client = Client()
    await client.sign_up(base, username, PASSWORD)
    await client.log_in(base, username, PASSWORD)
    return client


async def socket_on_each_worker(client: Client, proxy: str) -> dict[str, ChatSocket]:
    """Open sockets through nginx until one is pinned to each worker (nginx's X-Upstream says which)."""
    pinned: dict[str, ChatSocket] = {}
    for _ in range(8):
        socket = await client.open_chat(proxy)
        if socket.upstream in pinned or not socket.upstream:
            socket.close()
        else:
            pinned[socket.upstream] = socket
        if len(pinned) == 2:
            return pinned
    raise AssertionError(f"nginx never spread sockets over both workers: {list(pinned)}")


def test_a_message_sent_to_one_worker_reaches_the_other(cluster: Cluster) -> None:
    async def scenario() -> None:
        alice = await signed_up(cluster.proxy, "alice")
        sockets = list((await socket_on_each_worker(alice, cluster.proxy)).values())
        try:
            for sender, receiver in ((sockets[0], sockets[1]), (sockets[1], sockets[0])):
                await sender.say(f"from {sender.upstream}", message_id=sender.upstream)
                received = await receiver.receive("message", id=sender.upstream)
                assert received["text"] == f"from {sender.upstream}" and received["user"] == "alice"
                await sender.receive("message", id=sender.upstream)  # the sender's worker delivers it once too
        finally:
            for socket in sockets:
                socket.close()

    asyncio.run(scenario())


def test_a_login_holds_on_every_worker_and_a_logout_anywhere_ends_it(cluster: Cluster) -> None:
    first, second = cluster.workers

    async def scenario() -> None:
        bob = await signed_up(first, "bob")
        assert await bob.signed_in(first) and await bob.signed_in(second)
        socket = await bob.open_chat(first)
        try:
            await bob.log_out(second)
            assert await socket.closed() == 4001
            assert not await bob.signed_in(first)
        finally:
            socket.close()

    asyncio.run(scenario())


def test_chat_survives_a_redis_restart(cluster: Cluster) -> None:
    first, second = cluster.workers

    async def scenario() -> None:
        carol = await signed_up(first, "carol")
        one, two = await carol.open_chat(first), await carol.open_chat(second)
        try:
            cluster.redis.stop()
            for socket in (one, two):
                await socket.receive("status", connected=False)
            await one.say("lost")
            assert "unavailable" in (await one.receive("error"))["error"]
            cluster.redis.start()
            for socket in (one, two):
                await socket.receive("status", connected=True, timeout=30)
            await one.say("back again", message_id="after-restart")
            assert (await two.receive("message", id="after-restart"))["text"] == "back again"
        finally:
            one.close()
            two.close()

    asyncio.run(scenario())
    assert all(process.popen.poll() is None for process in cluster.processes), "a worker died"
