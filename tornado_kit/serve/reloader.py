"""The parent process: holds the socket, runs the watcher, and swaps app processes on each change.

A reload asks the fork server for a new app process; once it serves on the shared socket, the old
one is told to stop (SIGTERM: stop accepting, finish requests in flight, exit; SIGKILL after a grace
period). Requests that arrive in between wait in the socket's backlog, so none is refused.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tornado_kit.serve import output
from tornado_kit.serve.config import ServeConfig
from tornado_kit.serve.forkserver import ForkServerConfig
from tornado_kit.serve.livehub import LiveHub
from tornado_kit.serve.migrations import apply_migrations, may_be_behind
from tornado_kit.serve.procs import signal_pid
from tornado_kit.serve.protocol import Health, Message, ProcessState, Signal, encode, split_lines
from tornado_kit.serve.watchers import (
    Change,
    Debouncer,
    PathFilter,
    Watcher,
    describe_roots,
    start_watcher,
)

STOP_GRACE = 3.5
MAX_BACKOFF = 8.0


@dataclass
class AppProcess:
    """One app process as the parent tracks it (by pid, never by name)."""

    pid: int
    generation: int
    state: ProcessState = ProcessState.STARTING


@dataclass
class Pending:
    """A requested reload: what changed and when the first change was seen."""

    paths: list[Path] = field(default_factory=list)
    since: float = field(default_factory=time.monotonic)


class Reloader:
    """Runs one dev-server session until Ctrl-C or SIGTERM."""

    def __init__(self, config: ServeConfig, sock: socket.socket) -> None:
        self.config = config
        self.sock = sock
        self.processes: dict[int, AppProcess] = {}
        self.generation = 0
        self.pending: dict[int, Pending] = {}
        self.backoff = 0.25
        self.restart_timer: asyncio.TimerHandle | None = None
        self.stopping = asyncio.Event()
        self.exit_code = 0
        self.buffer = b""
        self.live = LiveHub() if config.live_reload else None
        self.migrating: asyncio.Task[None] | None = None  # restarts wait for it: none starts on an old schema

    async def run(self) -> int:
        """Start the fork server, the first app process and the watcher; wait for a stop signal."""
        self.loop = asyncio.get_running_loop()
        if self.live is not None:
            await self.live.start()
        self.forkserver = self._spawn_forkserver()
        self.loop.add_reader(self.events_r, self._on_events)
        self._watch_forkserver()
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self.loop.add_signal_handler(signum, self.stopping.set)
        self.request_app_process(Pending())
        watcher = self._start_watcher()
        try:
            await self.stopping.wait()
        finally:
            watcher.stop()
            await self.shut_down()
        return self.exit_code

    def _spawn_forkserver(self) -> subprocess.Popen[bytes]:
        control_r, self.control_w = os.pipe()
        self.events_r, events_w = os.pipe()
        os.set_blocking(self.events_r, False)
        cfg = ForkServerConfig(
            listen_fd=self.sock.fileno(),
            control_fd=control_r,
            events_fd=events_w,
            parent_pid=os.getpid(),
            app_spec=self.config.app_spec,
            import_root=str(self.config.import_root),
            project_root=str(self.config.project_root) if self.config.project_root else None,
            package=self.config.package,
            live_socket=self.live.path if self.live else None,
            live_session=self.live.session if self.live else "",
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "tornado_kit.serve.forkserver", cfg.to_json()]
        proc = subprocess.Popen(
            command, pass_fds=(self.sock.fileno(), control_r, events_w), cwd=self.config.workdir, env=env
        )
        os.close(control_r)
        os.close(events_w)
        return proc

    def _watch_forkserver(self) -> None:
        """Notice at once if the fork server dies (a pidfd on Linux, else a slow poll)."""
        try:
            self.pidfd: int | None = os.pidfd_open(self.forkserver.pid)
            self.loop.add_reader(self.pidfd, self._forkserver_died)
        except (AttributeError, OSError):
            self.pidfd = None
            self.loop.call_later(1.0, self._poll_forkserver)

    def _poll_forkserver(self) -> None:
        if self.forkserver.poll() is not None:
            self._forkserver_died()
        elif not self.stopping.is_set():
            self.loop.call_later(1.0, self._poll_forkserver)

    def _forkserver_died(self) -> None:
        if self.pidfd is not None:
            self.loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = None
        if not self.stopping.is_set():
            output.failure(f"the fork server exited unexpectedly (status {self.forkserver.poll()})")
            self.exit_code = 1
            self.stopping.set()

    def _start_watcher(self) -> Watcher:
        cfg = self.config
        path_filter = PathFilter(cfg.watch_root, cfg.watch, cfg.ignore, live=cfg.live_reload)
        debouncer = Debouncer(self.loop, self.on_changes)
        self.path_filter = path_filter
        watcher, warning = start_watcher(path_filter, debouncer.add_threadsafe, cfg.poll)
        output.banner(cfg, output.watching_line(watcher.name, describe_roots(watcher, cfg.watch_root), cfg.ignore))
        if warning:
            output.warn(warning)
        return watcher

    def on_changes(self, paths: list[Path], since: float) -> None:
        """A debounced batch of changes: code -> a new app process (tabs reload once it serves); templates
        and scripts -> tabs reload now; stylesheets -> tabs swap them in place. A save resets the backoff."""
        if self.stopping.is_set():
            return
        kinds = {path: self.path_filter.classify(path) for path in paths}
        if self.live is None or Change.RESTART in kinds.values() or None in kinds.values():
            self.backoff = 0.25
            pending = Pending(paths, since)
            migrate = may_be_behind(self.config, paths)
            if migrate or self.migrating is not None:
                self.migrating = self.loop.create_task(self._migrate_then_restart(pending, migrate, self.migrating))
            else:
                self.request_app_process(pending)
        elif Change.PAGE in kinds.values():
            names = output.changed_names(paths, self.config.watch_root)
            output.tabs_reloaded(names, self.live.send(Signal.RELOAD, names))
        else:
            for path in paths:
                self.live.send(Signal.CSS, self._relative(path))
            output.stylesheets_swapped(output.changed_names(paths, self.config.watch_root), self.live.tabs())

    async def _migrate_then_restart(self, pending: Pending, migrate: bool, previous: asyncio.Task[None] | None) -> None:
        """After any migration already under way (and this one, if `migrate`), start a new app process."""
        if previous is not None:
            await previous
        if migrate:
            message = await apply_migrations(self.config)
            if message is not None:
                output.migrations(message)
        if self.migrating is asyncio.current_task():
            self.migrating = None
        if not self.stopping.is_set():
            self.request_app_process(pending)

    def _relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.config.watch_root).as_posix()
        except ValueError:
            return path.as_posix()

    def request_app_process(self, pending: Pending) -> None:
        """Ask the fork server for a new generation; processes still starting are now stale."""
        if self.restart_timer is not None:
            self.restart_timer.cancel()
            self.restart_timer = None
        for proc in self.processes.values():
            if proc.state is ProcessState.STARTING:
                proc.state = ProcessState.STOPPING
                signal_pid(proc.pid, signal.SIGTERM)
        self.generation += 1
        self.pending[self.generation] = pending
        try:
            os.write(self.control_w, encode(Signal.FORK, self.generation))
        except OSError:
            self._forkserver_died()

    def _on_events(self) -> None:
        try:
            data = os.read(self.events_r, 65536)
        except BlockingIOError:
            return
        if not data:
            self.loop.remove_reader(self.events_r)
            return
        messages, self.buffer = split_lines(self.buffer, data)
        for message in messages:
            self.handle_event(message)

    def handle_event(self, message: Message) -> None:
        """Dispatch one message from the fork server or an app process."""
        if message.signal is Signal.FORKED:
            self._on_forked(message.number(0), message.number(1))
        elif message.signal is Signal.READY:
            broken = message.fields[2] == Health.BROKEN
            self._on_ready(message.number(0), message.number(1), broken, float(message.fields[3]))
        elif message.signal is Signal.EXIT:
            self._on_exit(message.number(0), message.number(1))

    def _on_forked(self, generation: int, pid: int) -> None:
        if pid in self.processes:
            return  # its "ready" came first (the two messages come from different processes)
        proc = AppProcess(pid, generation)
        self.processes[pid] = proc
        if generation != self.generation or self.stopping.is_set():
            proc.state = ProcessState.STOPPING
            signal_pid(pid, signal.SIGTERM)

    def _on_ready(self, generation: int, pid: int, broken: bool, took_ms: float) -> None:
        proc = self.processes.setdefault(pid, AppProcess(pid, generation))
        if proc.state is ProcessState.STOPPING:
            return
        if generation != self.generation or self.stopping.is_set():
            self.stop_process(proc)  # superseded while it started
            return
        proc.state = ProcessState.SERVING
        for other in self.processes.values():
            if other is not proc and other.state is not ProcessState.STOPPING:
                self.stop_process(other)
        pending = self.pending.pop(generation, Pending())
        if pending.paths:
            took = 1000.0 * (time.monotonic() - pending.since)
            tabs = self.live.tabs(excluding=pid) if self.live else 0
            output.reloaded(output.changed_names(pending.paths, self.config.watch_root), took, pid, broken, tabs)
        else:
            output.started(took_ms, pid, broken)

    def stop_process(self, proc: AppProcess) -> None:
        """SIGTERM now (drain), SIGKILL if it is still there after the grace period."""
        proc.state = ProcessState.STOPPING
        signal_pid(proc.pid, signal.SIGTERM)
        self.loop.call_later(STOP_GRACE, self._kill_if_alive, proc.pid)

    def _kill_if_alive(self, pid: int) -> None:
        if pid in self.processes:
            signal_pid(pid, signal.SIGKILL)

    def _on_exit(self, pid: int, code: int) -> None:
        proc = self.processes.pop(pid, None)
        if proc is None or proc.state is ProcessState.STOPPING or self.stopping.is_set():
            return
        if proc.generation != self.generation:
            return
        if self._someone_serving():
            output.startup_crash(pid, code)
        else:
            output.crashed(pid, code, self.backoff)
            self.restart_timer = self.loop.call_later(self.backoff, self.request_app_process, Pending())
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)

    def _someone_serving(self) -> bool:
        return any(p.state is not ProcessState.STOPPING for p in self.processes.values())

    async def shut_down(self) -> None:
        """Stop every app process (drain, then kill), then the fork server; free the port."""
        if self.restart_timer is not None:
            self.restart_timer.cancel()
        if self.migrating is not None:
            self.migrating.cancel()  # kills a migration under way (each waiting one is cancelled with it)
            await asyncio.gather(self.migrating, return_exceptions=True)
        for proc in list(self.processes.values()):
            proc.state = ProcessState.STOPPING
            signal_pid(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        while self.processes and time.monotonic() < deadline and self.forkserver.poll() is None:
            await asyncio.sleep(0.02)
        for pid in list(self.processes):
            signal_pid(pid, signal.SIGKILL)
        os.close(self.control_w)
        await self._wait_forkserver()
        self.loop.remove_reader(self.events_r)
        for fd in (self.events_r, self.pidfd):
            if fd is not None:
                os.close(fd)
        if self.live is not None:
            await self.live.close()
        self.sock.close()

    async def _wait_forkserver(self) -> None:
        deadline = time.monotonic() + 1.0
        while self.forkserver.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.forkserver.poll() is None:
            self.forkserver.kill()
            self.forkserver.wait()
