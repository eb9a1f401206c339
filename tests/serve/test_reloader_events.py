"""The parent's bookkeeping of app processes, fed messages in the orders they can really arrive."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tornado_kit.serve.config import ServeConfig
from tornado_kit.serve.reloader import AppProcess, Reloader


def _reloader(tmp_path: Path) -> Reloader:
    config = ServeConfig("app:make_app", tmp_path, tmp_path, tmp_path, None, None)
    return Reloader(config, sock=None)  # type: ignore[arg-type]


def _sleeper() -> subprocess.Popen[bytes]:
    """A process this test owns, standing in for an app process (it gets the real signals)."""
    return subprocess.Popen(["sleep", "30"])


def test_ready_overtaking_forked_still_swaps_processes(tmp_path: Path) -> None:
    old, new = _sleeper(), _sleeper()
    try:

        async def scenario() -> Reloader:
            reloader = _reloader(tmp_path)
            reloader.loop = asyncio.get_running_loop()
            reloader.generation = 2
            reloader.processes[old.pid] = AppProcess(old.pid, 1, "serving")
            reloader.handle_event(["ready", "2", str(new.pid), "ok", "12.5"])
            reloader.handle_event(["forked", "2", str(new.pid)])
            return reloader

        reloader = asyncio.run(scenario())
        assert reloader.processes[new.pid].state == "serving"
        assert reloader.processes[old.pid].state == "stopping"
        assert old.wait(timeout=10) != 0, "the old process got SIGTERM"
        assert new.poll() is None
    finally:
        for proc in (old, new):
            proc.kill()
            proc.wait()


def test_a_superseded_process_is_stopped_not_promoted(tmp_path: Path) -> None:
    current, stale = _sleeper(), _sleeper()
    try:

        async def scenario() -> Reloader:
            reloader = _reloader(tmp_path)
            reloader.loop = asyncio.get_running_loop()
            reloader.generation = 3
            reloader.processes[current.pid] = AppProcess(current.pid, 2, "serving")
            reloader.handle_event(["ready", "2", str(stale.pid), "ok", "9.0"])
            return reloader

        reloader = asyncio.run(scenario())
        assert reloader.processes[current.pid].state == "serving"
        assert reloader.processes[stale.pid].state == "stopping"
        assert stale.wait(timeout=10) != 0
        assert current.poll() is None
    finally:
        for proc in (current, stale):
            proc.kill()
            proc.wait()


def test_unexpected_exit_of_the_serving_process_schedules_a_restart(tmp_path: Path) -> None:
    async def scenario() -> Reloader:
        reloader = _reloader(tmp_path)
        reloader.loop = asyncio.get_running_loop()
        reloader.generation = 1
        reloader.processes[4242] = AppProcess(4242, 1, "serving")
        reloader.handle_event(["exit", "4242", "3"])
        assert reloader.restart_timer is not None
        reloader.restart_timer.cancel()
        return reloader

    reloader = asyncio.run(scenario())
    assert reloader.processes == {}
    assert reloader.backoff == 0.5, "the next crash waits longer"
