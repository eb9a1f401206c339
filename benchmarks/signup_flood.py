"""Login latency of an existing user while others flood the sign-up form, against the same logins alone.

Generates a project (or takes `--project DIR`, e.g. one rendered from an older tkit), migrates its
database, creates one user with `createuser`, starts `python -m mysite` as a real process on 127.0.0.1
with production scrypt cost, then measures, in the same run:

- baseline: the user logs in over and over from 127.0.0.3, nothing else running;
- one-address flood: `--flooders` threads post sign-ups as fast as they can from 127.0.0.2;
- many-address flood: the same threads, each sign-up from another 127.0.1.x address (a botnet, or
  IPv6), so the per-address throttle never stops them and only the bound on waiting hashes does.

Clients bind their source address (Linux routes all of 127.0.0.0/8 to lo), so the app sees distinct
addresses without trusting X-Real-Ip. The flood runs in a niced child process: on a real server the
attacker's CPU is elsewhere. Prints login latency (median, p90), the ratio to the baseline, and how the
sign-ups were answered (status: count).

    python benchmarks/signup_flood.py [--logins 20] [--flooders 8] [--project DIR]
"""

from __future__ import annotations

import argparse
import http.client
import http.cookies
import itertools
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import free_port, stop_process_group, wait_for_http

PASSWORD = "correct horse battery staple"
LOGIN_ADDRESS = "127.0.0.3"
FLOOD_ADDRESS = "127.0.0.2"
TIMEOUT = 60.0
FLOOD_NICENESS = 10


@dataclass(frozen=True)
class Client:
    """Form posts from one source address, with an xsrf token fetched once (cookie and field match)."""

    port: int
    source: str
    xsrf: str

    @classmethod
    def start(cls, port: int, source: str) -> Client:
        """GET the login form from `source` and keep its xsrf cookie."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT, source_address=(source, 0))
        try:
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            cookie = http.cookies.SimpleCookie(response.getheader("Set-Cookie", ""))
        finally:
            connection.close()
        return cls(port, source, cookie["_xsrf"].value)

    def post(self, path: str, fields: dict[str, str], source: str | None = None) -> int:
        """POST the form (from `source` if given) on a fresh connection; the status code."""
        address = (source or self.source, 0)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT, source_address=address)
        body = urllib.parse.urlencode({**fields, "_xsrf": self.xsrf})
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"_xsrf={self.xsrf}"}
        try:
            connection.request("POST", path, body, headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


@dataclass
class Flood:
    """A child process (niced: the attacker's CPU is not the server's) whose threads post sign-ups until the
    block ends; `answers` counts the status codes they got."""

    client: Client
    threads: int
    many_addresses: bool
    answers: Counter[int] = field(default_factory=Counter)

    def __enter__(self) -> Self:
        context = multiprocessing.get_context("fork")
        self._stop, self._results = context.Event(), context.Queue()
        self._process = context.Process(target=self._child, daemon=True)
        self._process.start()
        time.sleep(1.0)  # let the flood reach its steady state before measuring
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.answers.update(self._results.get(timeout=TIMEOUT))
        self._process.join(TIMEOUT)

    def _child(self) -> None:
        os.nice(FLOOD_NICENESS)
        names, lock, answers = itertools.count(), threading.Lock(), Counter[int]()

        def post_until_stopped() -> None:
            while not self._stop.is_set():
                with lock:
                    number = next(names)
                source = f"127.0.1.{number % 250 + 1}" if self.many_addresses else None
                prefix = "many" if self.many_addresses else "one"  # each phase signs up new names
                try:
                    status = self.client.post(
                        "/signup", {"username": f"{prefix}{number}", "password": PASSWORD}, source
                    )
                except OSError:
                    status = 0  # connection failed or timed out
                with lock:
                    answers[status] += 1

        workers = [threading.Thread(target=post_until_stopped) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self._results.put(dict(answers))


def login_latencies(client: Client, count: int) -> list[float]:
    """Log in `count` times in a row; seconds each took. Every login must succeed (302)."""
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        status = client.post("/login", {"username": "bob", "password": PASSWORD, "next": "/"})
        latencies.append(time.perf_counter() - started)
        if status != 302:
            raise RuntimeError(f"login answered {status}, not 302")
    return latencies


def p90(values: list[float]) -> float:
    """The 90th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * len(ordered)) - 1)]


def start_app(project: Path, port: int) -> subprocess.Popen[bytes]:
    """migrate, createuser bob, then `python -m <package>` on 127.0.0.1:port in its own process group."""
    database = project / "var" / "bench.sqlite3"
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": f"sqlite:///{database}",
        "DATABASE_PATH": str(database),  # projects made before the SQLAlchemy data layer (--project)
    }
    if (project / "alembic.ini").exists():
        migrate = [sys.executable, "-m", "mysite", "migrate"]
        subprocess.run(migrate, cwd=project, env=env, capture_output=True, timeout=TIMEOUT, check=True)
    created = subprocess.run(
        [sys.executable, "-m", "mysite", "createuser", "bob"],
        cwd=project,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if created.returncode != 0:
        raise RuntimeError(f"createuser failed: {created.stderr.strip()}")
    command = [sys.executable, "-m", "mysite", "--port", str(port), "--address", "127.0.0.1"]
    with (project / "var" / "app.log").open("wb") as log:
        process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=log, start_new_session=True)
    wait_for_http(f"http://127.0.0.1:{port}/login", timeout=TIMEOUT)
    return process


def measure(port: int, args: argparse.Namespace) -> None:
    """The three phases, then one table."""
    login = Client.start(port, LOGIN_ADDRESS)
    flooder = Client.start(port, FLOOD_ADDRESS)
    rows = [("no flood", login_latencies(login, args.logins), Counter[int]())]
    for label, many in (("sign-up flood, one address", False), ("sign-up flood, 250 addresses", True)):
        with Flood(flooder, args.flooders, many) as flood:
            latencies = login_latencies(login, args.logins)
        rows.append((label, latencies, flood.answers))
    base = statistics.median(rows[0][1]), p90(rows[0][1])
    print(f"{'phase':<30} {'median s':>9} {'p90 s':>7} {'median x':>9} {'p90 x':>6}  sign-up answers")
    for label, latencies, answers in rows:
        median, high = statistics.median(latencies), p90(latencies)
        counts = " ".join(f"{status}:{count}" for status, count in sorted(answers.items())) or "-"
        print(f"{label:<30} {median:>9.3f} {high:>7.3f} {median / base[0]:>8.2f}x {high / base[1]:>5.2f}x  {counts}")


def parse_args() -> argparse.Namespace:
    """How many logins per phase, how many flooding threads, which project."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=20, help="logins measured per phase")
    parser.add_argument("--flooders", type=int, default=8, help="threads posting sign-ups")
    parser.add_argument("--project", type=Path, help="an existing project named mysite (default: generate one)")
    return parser.parse_args()


def main() -> int:
    """Generate (or copy) the project, run the app, measure, stop the app."""
    args = parse_args()
    from tornado_kit.new import new_project

    with tempfile.TemporaryDirectory(prefix="tk-bench-") as temp:
        project = Path(temp) / "mysite"
        if args.project:
            subprocess.run(["cp", "-a", str(args.project.resolve()), str(project)], check=True, timeout=TIMEOUT)
        else:
            new_project("mysite", project)
        (project / "var").mkdir(exist_ok=True)
        port = free_port()
        process = start_app(project, port)
        try:
            print(f"{os.cpu_count()} CPUs, {args.logins} logins per phase, {args.flooders} flooding threads")
            measure(port, args)
        finally:
            stop_process_group(process)
    return 0


if __name__ == "__main__":
    sys.exit(main())
