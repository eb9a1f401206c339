"""Run real supervisord and nginx under a temporary folder on free loopback ports, for tests and benchmarks.

Reusable by other test modules (e.g. the Redis scale-out tests):

    from deploy.harness import Deployment

    with Deployment.start(project_root, workdir, workers=2) as deployment:
        urllib.request.urlopen(deployment.url + "/login")          # through nginx
        deployment.supervisor.worker_pids()                       # {"mysite:mysite_8001": 1234, ...}
        deployment.supervisor.ctl("restart", "mysite:*")

`Deployment.start` renders the project's configs with `tkit deploy-config` (as a user would, with
`--listen 127.0.0.1:PORT`, `--base-port`, `--log-dir` and `--user` set to the current user, so no
privileges are dropped; as root, which deploy-config refuses, a stand-in whose `user=` line is dropped),
then starts supervisord (`-c` a temp config that
includes the rendered program file; supervisorctl talks to it over a unix socket in a short temp dir)
and nginx (`-p prefix -c main.conf`, a wrapper config that includes the rendered server file unchanged).
Every process is started in its own session and stopped by pid or process group, never by name.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from support import free_port_block, stop_process_group, wait_for_http, wait_for_port

from tornado_kit.project import load_project


def self_signed_certificate(directory: Path, common_name: str) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and key made with `openssl`."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={common_name}",
            "-addext",
            f"subjectAltName=DNS:{common_name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


class Supervisor:
    """A real supervisord running the rendered program file(s), controlled with supervisorctl."""

    def __init__(self, workdir: Path, program_files: Sequence[Path]) -> None:
        self.workdir = workdir
        self.socket_dir = Path(tempfile.mkdtemp(prefix="tk-sv-"))  # short: unix socket paths max ~107 bytes
        self.config = workdir / "supervisord.conf"
        self.config.write_text(self._config_text(program_files))
        self.process: subprocess.Popen[bytes] | None = None

    def _config_text(self, program_files: Sequence[Path]) -> str:
        sock, work = self.socket_dir / "supervisor.sock", self.workdir
        return (
            f"[unix_http_server]\nfile={sock}\nchmod=0700\n\n"
            f"[supervisord]\nnodaemon=true\nlogfile={work}/supervisord.log\npidfile={work}/supervisord.pid\n"
            f"childlogdir={work}\n\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            f"[supervisorctl]\nserverurl=unix://{sock}\n\n"
            f"[include]\nfiles = {' '.join(str(p) for p in program_files)}\n"
        )

    def start(self, expected: int, timeout: float = 60.0) -> None:
        """Start supervisord and wait until `expected` programs are RUNNING."""
        with (self.workdir / "supervisord.stdout").open("wb") as log:
            self.process = subprocess.Popen(
                ["supervisord", "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_running(expected, timeout)

    def ctl(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run `supervisorctl -c CONFIG ARGS...` (exit status not checked: `status` exits 3 if one is down)."""
        return subprocess.run(
            ["supervisorctl", "-c", str(self.config), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def status(self) -> dict[str, tuple[str, int | None]]:
        """{process name: (state, pid or None)} as supervisorctl reports it."""
        result: dict[str, tuple[str, int | None]] = {}
        for line in self.ctl("status").stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and ":" in parts[0]:
                pid = int(parts[3].rstrip(",")) if len(parts) > 3 and parts[2] == "pid" else None
                result[parts[0]] = (parts[1], pid)
        return result

    def worker_pids(self) -> dict[str, int]:
        """The pid of every RUNNING process."""
        return {name: pid for name, (state, pid) in self.status().items() if state == "RUNNING" and pid}

    def wait_running(self, expected: int, timeout: float = 60.0) -> dict[str, int]:
        """Poll until `expected` processes are RUNNING; bounded by `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) >= expected:
                return pids
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"supervisord exited: {self.log_tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"{expected} workers not RUNNING after {timeout} s: {self.status()} {self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        """The end of supervisord's log and of every worker log, for failure messages."""
        texts = []
        for path in sorted(self.workdir.rglob("*.log")):
            texts.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:]))
        return "\n".join(texts)

    def stop(self) -> None:
        """Stop supervisord (which stops its workers); kill any worker left over, by pid."""
        if self.process is None:
            return
        leftovers = list(self.worker_pids().values())
        stop_process_group(self.process, signal.SIGTERM, timeout=60)
        for pid in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.socket_dir, ignore_errors=True)
        self.process = None


class Nginx:
    """A real nginx serving the rendered server file unchanged, inside a wrapper main config."""

    def __init__(self, prefix: Path, server_file: Path, port: int, worker_processes: int = 1) -> None:
        self.prefix, self.port = prefix, port
        (prefix / "tmp").mkdir(parents=True, exist_ok=True)
        self.config = prefix / "main.conf"
        self.config.write_text(self._config_text(server_file, worker_processes))
        self.process: subprocess.Popen[bytes] | None = None

    def _config_text(self, server_file: Path, worker_processes: int) -> str:
        p = self.prefix
        user = "user root;\n" if os.geteuid() == 0 else ""  # root's workers would run as nobody: no access to tmp
        temp_paths = "".join(
            f"{kind}_temp_path {p}/tmp/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        return (
            f"{user}worker_processes {worker_processes};\npid {p}/nginx.pid;\nerror_log {p}/error.log;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\ninclude /etc/nginx/mime.types;\ndefault_type application/octet-stream;\n"
            f"access_log {p}/access.log;\n{temp_paths}include {server_file};\n}}\n"
        )

    def check(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the wrapper config."""
        return subprocess.run(
            ["nginx", "-t", "-p", str(self.prefix), "-c", str(self.config)],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self, timeout: float = 20.0) -> None:
        """Start nginx in the foreground of its own session and wait for its port."""
        with (self.prefix / "stdout.log").open("wb") as log:
            self.process = subprocess.Popen(
                ["nginx", "-p", str(self.prefix), "-c", str(self.config), "-g", "daemon off;"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_for_port(self.port, timeout)
        except TimeoutError:
            raise RuntimeError((self.prefix / "error.log").read_text(errors="replace")) from None

    def stop(self) -> None:
        """Graceful quit (SIGQUIT), then SIGKILL to the group if it hangs."""
        if self.process is not None:
            stop_process_group(self.process, signal.SIGQUIT, timeout=20)
            self.process = None


@dataclass
class Deployment:
    """A project rendered by `tkit deploy-config` and running under real supervisord + nginx."""

    project: Path
    out: Path
    supervisor: Supervisor
    nginx: Nginx
    base_port: int
    workers: int
    render_output: subprocess.CompletedProcess[str]

    @property
    def url(self) -> str:
        """The site's URL through nginx."""
        return f"http://127.0.0.1:{self.nginx.port}"

    def worker_url(self, index: int = 0) -> str:
        """One worker reached directly, bypassing nginx."""
        return f"http://127.0.0.1:{self.base_port + index}"

    @classmethod
    @contextlib.contextmanager
    def start(
        cls, project: Path, workdir: Path, workers: int = 2, extra_args: Sequence[str] = (), nginx_workers: int = 1
    ) -> Iterator[Deployment]:
        """Render, start supervisord and nginx, yield; always stop both (by pid) on the way out."""
        base_port, listen_port = free_port_block(workers), free_port_block(1)
        out = workdir / "deploy"
        render = render_configs(project, out, workers, base_port, listen_port, workdir / "logs", extra_args)
        name = next((out / "nginx").glob("*.conf")).stem
        supervisor = Supervisor(workdir, sorted((out / "supervisor").glob("*.conf")))
        nginx = Nginx(workdir / "nginx", out / "nginx" / f"{name}.conf", listen_port, nginx_workers)
        try:
            migrate_once(project)
            supervisor.start(expected=workers)
            for index in range(workers):
                wait_for_http(f"http://127.0.0.1:{base_port + index}/", timeout=60)
            nginx.start()
            yield cls(project, out, supervisor, nginx, base_port, workers, render)
        finally:
            nginx.stop()
            supervisor.stop()


TEST_USER_STANDIN = "nobody"


def migrate_once(project: Path) -> None:
    """The deploy README's step before `supervisorctl update`: `python -m <package> migrate`, once per deploy
    (only for projects with migrations, such as generated ones)."""
    if not (project / "alembic.ini").is_file():
        return
    package = load_project(project).package
    result = subprocess.run(
        [sys.executable, "-m", package, "migrate"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def render_configs(
    project: Path, out: Path, workers: int, base_port: int, listen_port: int, log_dir: Path, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[str]:
    """Run `tkit deploy-config` for loopback ports, as the current user, the way a user would."""
    log_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "tornado_kit",
        "deploy-config",
        "--app-dir",
        str(project),
        "--out",
        str(out),
        "--workers",
        str(workers),
        "--base-port",
        str(base_port),
        "--listen",
        f"127.0.0.1:{listen_port}",
        "--server-name",
        "127.0.0.1,localhost",
        "--user",
        TEST_USER_STANDIN if getpass.getuser() == "root" else getpass.getuser(),
        "--log-dir",
        str(log_dir),
        "--force",
        *extra,
    ]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"tkit deploy-config failed: {result.stderr}")
    if getpass.getuser() == "root":
        run_as_root_in_tests(out)
    return result


def run_as_root_in_tests(out: Path) -> None:
    """deploy-config refuses `--user root`; tests that run as root (CI does) render for a stand-in user and
    then drop its `user=` line, so the test's own supervisord keeps its workers as root, able to read tmp."""
    for path in (out / "supervisor").glob("*.conf"):
        text = path.read_text()
        assert f"\nuser={TEST_USER_STANDIN}\n" in text, path
        path.write_text(text.replace(f"\nuser={TEST_USER_STANDIN}\n", "\n"))
