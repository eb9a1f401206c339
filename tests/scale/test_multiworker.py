"""Two workers of a generated project under real supervisord and nginx (configs from `tkit deploy-config`),
fanning chat out through a real redis-server: chat reaches users on every worker, checked end to end."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from deploy.harness import Deployment

from scale.harness import ChatSocket, Client, RedisServer

pytestmark = pytest.mark.slow  # no skip: CI installs redis-server and nginx, and a skip would hide a failure
PASSWORD = "correct horse battery staple"


@dataclass
class Cluster:
    """What the tests talk to: each worker directly (pinned), and nginx in front of both."""

    deployment: Deployment
    redis: RedisServer
    log_dir: Path

    def upgrades(self) -> list[int]:
        """WebSocket handshakes each worker has logged so far (tornado.access: `101 GET /ws/chat`)."""
        ports = (self.deployment.base_port + i for i in range(self.deployment.workers))
        return [(self.log_dir / f"mysite-{port}.log").read_text().count("101 GET /ws/chat") for port in ports]

    async def wait_for_upgrades(self, expected: list[int]) -> None:
        for _ in range(100):
            if self.upgrades() == expected:
                return
            await asyncio.sleep(0.05)
        assert self.upgrades() == expected

    @property
    def workers(self) -> list[str]:
        return [self.deployment.worker_url(0), self.deployment.worker_url(1)]

    @property
    def proxy(self) -> str:
        return self.deployment.url


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    from tornado_kit.new import new_project

    root = tmp_path_factory.mktemp("scale")
    project = root / "mysite"
    new_project("mysite", project, redis=True)
    redis = RedisServer(root)
    try:
        redis.start()
        with (project / ".env").open("a") as env:
            env.write(f"REDIS_URL={redis.url}\n")  # where a user puts it; every worker reads the same .env
        with Deployment.start(project, root, workers=2) as deployment:
            yield Cluster(deployment, redis, root / "logs")
    finally:
        redis.stop()


async def signed_up(base: str, username: str) -> Client:
    client = Client()
    await client.sign_up(base, username, PASSWORD)
    await client.log_in(base, username, PASSWORD)
    return client


def test_a_message_sent_to_one_worker_reaches_the_other(cluster: Cluster) -> None:
    async def scenario() -> None:
        alice = await signed_up(cluster.proxy, "alice")
        before = cluster.upgrades()
        pinned = [await alice.open_chat(base) for base in cluster.workers]
        proxied = [await alice.open_chat(cluster.proxy) for _ in range(2)]
        try:
            # one pinned socket on each worker, and nginx put one proxied socket on each worker
            await cluster.wait_for_upgrades([count + 2 for count in before])
            for sender, receiver in ((pinned[0], pinned[1]), (pinned[1], pinned[0])):
                message_id = f"from-{pinned.index(sender)}"
                await sender.say("hello over redis", message_id)
                received = await receiver.receive("message", id=message_id)
                assert received["text"] == "hello over redis" and received["user"] == "alice"
                for socket in (sender, *proxied):
                    await socket.receive("message", id=message_id)
        finally:
            for socket in pinned + proxied:
                await socket.close()

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
            await socket.close()

    asyncio.run(scenario())


def test_chat_survives_a_redis_restart(cluster: Cluster) -> None:
    first, second = cluster.workers
    pids = cluster.deployment.supervisor.worker_pids()

    async def scenario() -> None:
        carol = await signed_up(first, "carol")
        one, two = await carol.open_chat(first), await carol.open_chat(second)
        try:
            await restart_redis(cluster.redis, one, two)
            await one.say("back again", message_id="after-restart")
            assert (await two.receive("message", id="after-restart"))["text"] == "back again"
            await two.say("and back", message_id="reply")
            await one.receive("message", id="reply")
        finally:
            await one.close()
            await two.close()

    asyncio.run(scenario())
    assert cluster.deployment.supervisor.worker_pids() == pids, "a worker crashed or restarted"


def test_a_logout_while_redis_is_down_closes_the_socket_once_it_is_back(cluster: Cluster) -> None:
    first, second = cluster.workers

    async def scenario() -> None:
        dave = await signed_up(first, "dave")
        socket = await dave.open_chat(first)
        try:
            cluster.redis.stop()
            await socket.receive("status", connected=False)
            assert await dave.signed_in(second)  # (and the page gives the client its XSRF cookie)
            await dave.log_out(second)  # its "session-ended" event cannot reach the first worker now
            cluster.redis.start()
            await socket.receive("status", connected=True, timeout=30)
            assert await socket.closed() == 4001  # the first worker looked the session up again
        finally:
            await socket.close()

    asyncio.run(scenario())


async def restart_redis(redis: RedisServer, *sockets: ChatSocket) -> None:
    """Kill Redis: users are told and a message fails visibly; start it again: users are told."""
    redis.stop()
    for socket in sockets:
        await socket.receive("status", connected=False)
    await sockets[0].say("lost")
    assert "unavailable" in (await sockets[0].receive("error"))["error"]
    redis.start()
    for socket in sockets:
        await socket.receive("status", connected=True, timeout=30)
