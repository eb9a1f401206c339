"""Helpers for `tkit serve` tests: a dev server as a real subprocess on a free loopback port, probes."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from support import descendants, free_port

PROBE_APP = '''\
"""Test wrapper: the project's own app (from [tool.tkit] app) plus probe routes the tests edit."""
import importlib
import pathlib
import tomllib

from {package} import tkit_probe

_SPEC = tomllib.loads((pathlib.Path(__file__).parent / "pyproject.toml").read_text())["tool"]["tkit"]["app"]


def make_app():
    module, _, attribute = _SPEC.partition(":")
    app = getattr(importlib.import_module(module), attribute)()
    app.add_handlers(r".*", tkit_probe.ROUTES)
    return app
'''

PROBE_HANDLERS = """\
import os

import tornado.web

VERSION = {version!r}
TEMPLATES = os.path.join(os.path.dirname(__file__), "tkit_probe_templates")


class VersionHandler(tornado.web.RequestHandler):
    def get(self):
        self.write(VERSION)


class PageHandler(tornado.web.RequestHandler):
    def get_template_path(self):
        return TEMPLATES

    def get(self):
        self.render("probe.html")


class StaticUrlHandler(tornado.web.RequestHandler):
    def get(self):
        self.write(self.static_url("tkit-probe.css"))


class CrashHandler(tornado.web.RequestHandler):
    def get(self):
        os._exit(3)


ROUTES = [
    (r"/tkit-probe/version", VersionHandler),
    (r"/tkit-probe/page", PageHandler),
    (r"/tkit-probe/static-url", StaticUrlHandler),
    (r"/tkit-probe/crash", CrashHandler),
]
"""


def probe_source(version: str) -> str:
    """The probe handler module answering `version` on /tkit-probe/version."""
    return PROBE_HANDLERS.format(version=version)


def project_package(root: Path) -> str:
    """The importable package named in the project's [tool.tkit] table."""
    from tornado_kit.project import load_project

    return load_project(root).package


def add_probe(root: Path, version: str = "v0") -> Path:
    """Write the probe app, handler module and template into a project copy; return the handler file."""
    package = project_package(root)
    (root / "tkit_probe_app.py").write_text(PROBE_APP.format(package=package))
    handler = root / package / "tkit_probe.py"
    handler.write_text(probe_source(version))
    templates = root / package / "tkit_probe_templates"
    templates.mkdir(exist_ok=True)
    (templates / "probe.html").write_text("<p>tpl-1</p>\n")
    return handler


def copy_project(source: Path, target: Path) -> Path:
    """A private, editable copy of the generated project (never edit the shared one)."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("var", "__pycache__"))
    return target


class Response:
    """Status, headers and body of one HTTP exchange."""

    def __init__(self, status: int, headers: dict[str, str], body: str) -> None:
        self.status, self.headers, self.body = status, headers, body

    @property
    def pid(self) -> int | None:
        """The app process that answered (the dev server's X-Tkit-Pid header)."""
        value = self.headers.get("x-tkit-pid")
        return int(value) if value else None


class DevServer:
    """`tkit serve` as a subprocess in its own session; stop() kills its whole process group."""

    def __init__(
        self, cwd: Path, args: list[str], log_dir: Path, port: int | None = None, open_files: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.log_path = log_dir / f"serve-{self.port}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
        env.pop("TKIT_POLL", None)
        command = [sys.executable, "-m", "tornado_kit", "serve", "--port", str(self.port), *args]
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=(lambda: _limit_open_files(open_files)) if open_files else None,  # noqa: PLW1509
            )

    def get(self, path: str, timeout: float = 10.0) -> Response:
        """One GET on a fresh connection (raises OSError on refused/reset connections)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            conn.close()

    def wait_for(self, path: str, accept: Callable[[Response], bool], timeout: float = 30.0) -> Response:
        """Poll `path` until a response satisfies `accept`; bounded by `timeout`."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"tkit serve exited early:\n{self.log()}"
            try:
                last = self.get(path)
                if accept(last):
                    return last  # type: ignore[return-value]
            except OSError as exc:
                last = exc
            time.sleep(0.02)
        raise AssertionError(
            f"{path} never gave the expected response; last: {getattr(last, 'body', last)!r}\n{self.log()}"
        )

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace")

    def count(self, pattern: str) -> int:
        """How many log lines match a regular expression."""
        return len(re.findall(pattern, self.log(), flags=re.MULTILINE))

    def wait_for_log(self, pattern: str, at_least: int = 1, timeout: float = 15.0) -> None:
        """Wait until the log has `at_least` lines matching `pattern`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count(pattern) >= at_least:
                return
            time.sleep(0.05)
        raise AssertionError(f"log never showed {pattern!r} x{at_least}:\n{self.log()}")

    def tree(self) -> set[int]:
        """Pids of the server and all its descendants (read from /proc)."""
        return {self.proc.pid, *descendants(self.proc.pid)}

    def stop(self) -> None:
        """Kill the whole process group, whatever state it is in."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


PLAIN_APP = """\
import tornado.web

from plain_handlers import MainHandler


def make_app():
    return tornado.web.Application([(r"/", MainHandler)])
"""


def plain_handler(text: str) -> str:
    """A handler module that answers `text` on /."""
    return (
        "import tornado.web\n\n\nclass MainHandler(tornado.web.RequestHandler):\n"
        f"    def get(self):\n        self.write({text!r})\n"
    )


def _limit_open_files(count: int) -> None:
    """In the child before exec: `ulimit -n count` for the dev server and everything it starts."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (count, count))
