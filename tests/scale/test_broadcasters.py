"""The generated project's broadcasters on their own: in-process, and Redis against a real redis-server."""

from __future__ import annotations

import asyncio
import importlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from scale.harness import RedisServer
from tornado_kit.templates import templates_root

SKELETON = templates_root() / "project" / "__package__"
PACKAGE = "tkit_broadcast_under_test"


@pytest.fixture(scope="module")
def broadcast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The skeleton's broadcast modules, importable under a package name no other test uses."""
    root = tmp_path_factory.mktemp("broadcast")
    package = root / PACKAGE
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("broadcast.py", "broadcast_redis.py"):
        shutil.copy(SKELETON / name, package / name)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(f"{PACKAGE}.broadcast")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.startswith(PACKAGE)]:
            del sys.modules[name]


async def until(condition: Any, timeout: float = 20.0) -> None:
    """Poll `condition()` on the loop until true; bounded."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("condition never became true")


def test_in_process_delivers_once_to_each_subscriber_and_announces_shutdown(broadcast: ModuleType) -> None:
    async def scenario() -> None:
        hub = broadcast.make_broadcaster(None)
        first: list[Any] = []
        second: list[Any] = []
        hub.subscribe("chat", first.append)
        hub.subscribe("chat", second.append)
        hub.subscribe(broadcast.SHUTDOWN_CHANNEL, first.append)
        await hub.start()
        assert await hub.publish("chat", {"n": 1}) is True
        hub.unsubscribe("chat", second.append)
        await hub.publish("chat", {"n": 2})
        await hub.publish("other", {"n": 3})
        await hub.close()
        assert first == [{"n": 1}, {"n": 2}, {"type": "server-shutdown"}]
        assert second == [{"n": 1}]

    asyncio.run(scenario())


@pytest.mark.slow
def test_redis_fan_out_between_two_processes_survives_a_restart(broadcast: ModuleType, tmp_path: Path) -> None:
    redis = RedisServer(tmp_path)

    async def scenario() -> None:
        one, two = broadcast.make_broadcaster(redis.url), broadcast.make_broadcaster(redis.url)
        got: list[Any] = []
        status: list[bool] = []
        two.subscribe("chat", got.append)
        two.add_status_listener(status.append)
        await one.start()
        await two.start()  # Redis is not running yet: start() must return anyway
        assert not one.connected and await one.publish("chat", {"n": 0}) is False
        redis.start()
        await until(lambda: one.connected and two.connected)
        assert await one.publish("chat", {"n": 1}) is True
        await until(lambda: got == [{"n": 1}])
        redis.stop()
        await until(lambda: not one.connected and not two.connected)
        assert await one.publish("chat", {"n": 2}) is False
        redis.start()
        await until(lambda: one.connected and two.connected)
        assert await one.publish("chat", {"n": 3}) is True
        await until(lambda: len(got) == 2)
        await asyncio.sleep(0.3)  # nothing more (exactly once) arrives
        assert got == [{"n": 1}, {"n": 3}] and status == [True, False, True]
        await one.close()
        await two.close()

    try:
        asyncio.run(scenario())
    finally:
        redis.stop()


def test_redis_url_without_the_redis_package_is_a_clear_error(broadcast: ModuleType) -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        f"from {PACKAGE}.broadcast import make_broadcaster\n"
        "make_broadcaster('redis://127.0.0.1:1/0')\n"
    )
    root = str(Path(broadcast.__file__).parents[1])
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert "BroadcastConfigError: REDIS_URL is set but the 'redis' package is not installed" in last_line
