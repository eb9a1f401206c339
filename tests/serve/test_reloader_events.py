"""The parent's bookkeeping of app processes, fed messages in the orders they can really arrive."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tornado_kit.serve.config import ServeConfig
from tornado_kit.serve.protocol import Health, Message, ProcessState, Signal, decode, encode
from tornado_kit.serve.reloader import AppProcess, Reloader


def message(signal: Signal, *fields: object) -> Message:
    """A message as it arrives on the pipe: encoded, then decoded."""
    decoded = decode(encode(signal, *fields))
    assert decoded is not None
    return decoded


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
            reloader.processes[old.pid] = AppProcess(old.pid, 1, ProcessState.SERVING)
            reloader.handle_event(message(Signal.READY, 2, new.pid, Health.OK, 12.5))
            reloader.handle_event(message(Signal.FORKED, 2, new.pid))
            return reloader

        reloader = asyncio.run(scenario())
        assert reloader.processes[new.pid].state is ProcessState.SERVING
        assert reloader.processes[old.pid].state is ProcessState.STOPPING
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
            reloader.processes[current.pid] = AppProcess(current.pid, 2, ProcessState.SERVING)
            reloader.handle_event(message(Signal.READY, 2, stale.pid, Health.OK, 9.0))
            return reloader

        reloader = asyncio.run(scenario())
        assert reloader.processes[current.pid].state is ProcessState.SERVING
        assert reloader.processes[stale.pid].state is ProcessState.STOPPING
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
        reloader.processes[4242] = AppProcess(4242, 1, ProcessState.SERVING)
        reloader.handle_event(message(Signal.EXIT, 4242, 3))
        assert reloader.restart_timer is not None
        reloader.restart_timer.cancel()
        return reloader

    reloader = asyncio.run(scenario())
    assert reloader.processes == {}
    assert reloader.backoff == 0.5, "the next crash waits longer"
