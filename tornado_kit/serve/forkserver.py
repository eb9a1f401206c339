"""The fork server: a single-threaded process that has imported tornado and the project's third-party
dependencies (never the project's own modules) and forks a fresh app process on each request.

A reload then pays only for importing the project's own code. After a quiet moment the fork server
forks the next app process ahead of time (a standby that waits for its generation before importing
anything), so a reload does not wait for the fork either. The messages are in serve/protocol.py.
Run as `python -m tornado_kit.serve.forkserver CONFIG_JSON`.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import re
import select
import signal
import sys
import tomllib
import traceback
from dataclasses import dataclass
from pathlib import Path

from tornado_kit.serve.procs import exit_with_parent
from tornado_kit.serve.protocol import Message, Signal, decode, encode, split_lines
from tornado_kit.serve.warmup import CodeCache, Preloader, report_imports

STANDBY_AFTER = 0.3  # seconds of quiet before forking the next app process ahead of time
PRELOAD = (
    "asyncio",
    "json",
    "sqlite3",
    "hashlib",
    "hmac",
    "secrets",
    "dataclasses",
    "concurrent.futures",
    "tornado.web",
    "tornado.httpserver",
    "tornado.websocket",
    "tornado.template",
    "tornado.locale",
    "tornado.escape",
    "tornado.log",
    "tornado.ioloop",
    "tornado.platform.asyncio",
    "tornado.httpclient",
    "tornado.gen",
)


@dataclass(frozen=True)
class ForkServerConfig:
    """What the parent hands the fork server on its command line."""

    listen_fd: int
    control_fd: int
    events_fd: int
    parent_pid: int
    app_spec: str
    import_root: str
    project_root: str | None
    package: str | None
    live_socket: str | None = None  # live reload: the parent's Unix socket
    live_session: str = ""  # live reload: names this dev-server session to the tabs

    def to_json(self) -> str:
        """Serialise for the command line."""
        return json.dumps(self.__dict__)


def dependency_modules(project_root: Path, own_package: str | None) -> list[str]:
    """Top-level modules of the project's declared dependencies (never its own package)."""
    try:
        data = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    modules: list[str] = []
    for requirement in data.get("project", {}).get("dependencies", []):
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", str(requirement))
        if match:
            modules.extend(_top_level_modules(match.group(1)))
    return [m for m in dict.fromkeys(modules) if m != own_package]


def _top_level_modules(distribution: str) -> list[str]:
    from importlib import metadata

    try:
        text = metadata.distribution(distribution).read_text("top_level.txt")
    except metadata.PackageNotFoundError:
        return []
    names = (text or "").split()
    return names or [re.sub(r"[-.]+", "_", distribution).lower()]


def preload(modules: list[str]) -> None:
    """Import what every app process needs, so a fork starts with it; failures are left to the app."""
    for name in (*PRELOAD, *modules):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: S112, BLE001 - the app process reports its own import errors
            continue
    importlib.import_module("tornado_kit.serve.child")


class ForkServer:
    """Forks app processes on request and reports their exits."""

    def __init__(self, config: ForkServerConfig) -> None:
        self.config = config
        self.children: set[int] = set()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        self.warm_r, self.warm_w = os.pipe()  # app processes -> fork server: what to preload
        os.set_blocking(self.warm_w, False)  # an app process never blocks on it; a full pipe drops lines
        self.warm_pending = b""
        self.cache = CodeCache()
        self.preloader = Preloader(self.cache)
        self.standby: tuple[int, int] | None = None  # a forked app process waiting for its go: (pid, fd)

    def send(self, signal_: Signal, *fields: object) -> None:
        """One message to the parent (short writes to a pipe are atomic)."""
        try:
            os.write(self.config.events_fd, encode(signal_, *fields))
        except OSError:
            pass

    def run(self) -> None:
        """Serve fork requests until the parent closes the control pipe."""
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        pending = b""
        while True:
            idle = None if self.standby else STANDBY_AFTER
            ready, _, _ = select.select([self.config.control_fd, self.wake_r, self.warm_r], [], [], idle)
            if not ready:
                self._make_standby()
            if self.wake_r in ready:
                self._drain_wakeups()
                self.reap()
            if self.warm_r in ready:
                self._warm_up()
            if self.config.control_fd in ready:
                data = os.read(self.config.control_fd, 4096)
                if not data:
                    break
                messages, pending = split_lines(pending, data)
                for message in messages:
                    self._handle(message)
        self._stop_children()

    def _warm_up(self) -> None:
        messages, self.warm_pending = split_lines(self.warm_pending, os.read(self.warm_r, 65536))
        imported = [self.preloader.handle(message) for message in messages]
        if any(imported):
            self._drop_standby()  # it was forked without what was just imported

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _handle(self, message: Message) -> None:
        if message.signal is Signal.FORK:
            generation = message.number(0)
            pid = self._wake_standby(generation) or self.fork(generation)
            self.children.add(pid)

    def _make_standby(self) -> None:
        """Fork the next app process ahead of time; it waits for its generation before importing the app."""
        go_r, go_w = os.pipe()
        pid = self.fork(0, (go_r, go_w))
        os.close(go_r)
        self.children.add(pid)
        self.standby = (pid, go_w)

    def _wake_standby(self, generation: int) -> int | None:
        if self.standby is None:
            return None
        pid, go_w = self.standby
        self.standby = None
        try:
            os.write(go_w, encode(Signal.GO, generation))
        except OSError:
            return None  # it died: fork a fresh one
        finally:
            os.close(go_w)
        self.send(Signal.FORKED, generation, pid)  # its "ready" may overtake this: the parent copes
        return pid

    def _drop_standby(self) -> None:
        if self.standby is not None:
            go_w = self.standby[1]
            self.standby = None
            os.close(go_w)  # it reads EOF and exits

    def reap(self) -> None:
        """Collect exited app processes and tell the parent."""
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            if self.standby is not None and self.standby[0] == pid:
                self._drop_standby()
            self.send(Signal.EXIT, pid, os.waitstatus_to_exitcode(status))

    def fork(self, generation: int, go_pipe: tuple[int, int] | None = None) -> int:
        """Fork one app process (a standby reads its generation from `go_pipe`); the child never returns."""
        server_pid = os.getpid()
        gc.freeze()  # preloaded objects stay out of the child's collections: fewer copy-on-write pages
        pid = os.fork()
        if pid:
            if go_pipe is None:
                self.send(Signal.FORKED, generation, pid)
            return pid
        code = 1
        try:
            inherited = set(sys.modules)
            self._become_app_process(server_pid)
            if go_pipe is not None:
                os.close(go_pipe[1])
                generation = _wait_for_go(go_pipe[0])
            from tornado_kit.serve.child import AppTarget, LiveOptions, run_forked_child

            target = AppTarget(self.config.app_spec, Path(self.config.import_root))
            folders = tuple(Path(p) for p in (self.config.import_root, self.config.project_root) if p)

            def after_ready() -> None:
                report_imports(self.warm_w, inherited, folders)

            cfg = self.config
            live = LiveOptions(cfg.live_socket, f"{cfg.live_session}.{generation}") if cfg.live_socket else None
            code = run_forked_child(cfg.listen_fd, cfg.events_fd, generation, target, after_ready, live)
        except BaseException:  # noqa: BLE001 - the forked process must always reach os._exit
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def _become_app_process(self, server_pid: int) -> None:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # until the app installs its drain handler
        for fd in (self.wake_r, self.wake_w, self.warm_r, self.config.control_fd):
            os.close(fd)
        exit_with_parent(server_pid)
        self.cache.install()

    def _stop_children(self) -> None:
        self._drop_standby()
        for pid in self.children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _wait_for_go(go_fd: int) -> int:
    """A standby app process: block until the fork server hands over a generation (EOF: exit quietly)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(go_fd, 64)
        if not chunk:
            os._exit(0)
        data += chunk
    os.close(go_fd)
    message = decode(data)
    if message is None or message.signal is not Signal.GO:
        os._exit(0)
    return message.number(0)


def main(argv: list[str]) -> None:
    """Entry point: set up, preload, then serve fork requests."""
    config = ForkServerConfig(**json.loads(argv[0]))
    sys.argv = ["tkit serve"]  # apps that parse the command line (tornado.options) must not see our JSON
    exit_with_parent(config.parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C and a group-wide SIGTERM are the parent's to
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # handle; this process ends when the control pipe closes
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # As `python -m <package>` does: Alembic logs each plugin it sets up at INFO, on import (noise at every start).
    logging.getLogger("alembic").setLevel(logging.WARNING)
    modules = dependency_modules(Path(config.project_root), config.package) if config.project_root else []
    preload(modules)
    ForkServer(config).run()


if __name__ == "__main__":
    main(sys.argv[1:])
