"""The generated app's data layer under load: requests/s and p99 for the login page and the notes API, SQLite
against PostgreSQL, one worker against two, and the app before SQLAlchemy (sqlite3 on a thread pool) against
the app now, all in the same run.

The app "before" is rendered from the project templates of the commit before the data layer landed (read with
`git archive`, so this checkout must be a git clone). Each configuration: a fresh database, one signed-up user with
20 notes, then wrk on `GET /login` (no database) and `GET /api/notes?limit=20` (session lookup plus the list),
one wrk per worker at once (so two workers are driven like two upstreams). Configurations alternate old/new
and repeat `--repeat` times; the best run of each is kept (the machine is shared), and the now/before ratios
of each round are summarised as median and range (the login page, the same code before and after, shows the
noise). Beside requests/s, the
workers' own CPU time per request (user + system, from /proc): a steadier measure when wrk and other work share
the cores.

    python benchmarks/database.py [--duration 5] [--connections 16] [--repeat 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from pgcluster import throwaway_cluster
from scale.harness import Process
from support import free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[1]
TABLES = "templates/project/__package__/tables.py.jinja"  # added by the commit that brought the data layer
PASSWORD = "correct horse battery staple"
NOTES = 20


@dataclass(frozen=True)
class Result:
    """One wrk measurement summed over the workers, and the workers' CPU time per request (user + system: on a
    shared machine, steadier than requests/s)."""

    rps: float
    p99_ms: float
    cpu_ms: float = 0.0
    requests: int = 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections per worker")
    parser.add_argument("--repeat", type=int, default=2, help="runs per configuration (the best is kept)")
    return parser.parse_args()


def render_project(folder: Path, skeleton: Path | None) -> Path:
    """`tkit new mysite` from this checkout's templates, or from another skeleton (the old app)."""
    from tornado_kit.new import new_project

    root = folder / "mysite"
    new_project("mysite", root, skeleton=skeleton)
    return root


def old_skeleton(folder: Path) -> Path:
    """templates/project/ as of the commit before the data layer, extracted with git."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", TABLES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    archive = subprocess.run(
        ["git", "archive", f"{added}^", "templates"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout
    folder.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True, timeout=60)
    return folder / "templates" / "project"


def wrk(url: str, cookie: str, args: argparse.Namespace) -> subprocess.Popen[str]:
    """Start wrk against `url` (it prints the latency distribution with --latency)."""
    command = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{args.duration}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    return subprocess.Popen([*command, url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def parse_wrk(output: str) -> Result:
    """Requests/sec and the 99% latency from wrk's summary; non-2xx answers make the run invalid."""
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return Result(rps, float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], requests=requests)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(bases: list[str], pids: list[int], path: str, cookie: str, args: argparse.Namespace) -> Result:
    """One wrk per worker at once; requests/s summed, the worst p99, the workers' CPU ms per request."""
    before = sum(cpu_seconds(pid) for pid in pids)
    runs = [wrk(base + path, cookie, args) for base in bases]
    results = [parse_wrk(run.communicate(timeout=args.duration + 60)[0]) for run in runs]
    spent = sum(cpu_seconds(pid) for pid in pids) - before
    requests = sum(r.requests for r in results)
    return Result(
        sum(r.rps for r in results), max(r.p99_ms for r in results), 1000 * spent / max(requests, 1), requests
    )


def sign_up_with_notes(base: str) -> str:
    """Sign up through the form, add NOTES notes through the API; the Cookie header of that session."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/signup", timeout=30).read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf") or ""
    form = urllib.parse.urlencode({"username": "bench", "password": PASSWORD, "_xsrf": xsrf}).encode()
    opener.open(urllib.request.Request(f"{base}/signup", form), timeout=60).read()
    xsrf = urllib.parse.unquote(next(c.value for c in jar if c.name == "_xsrf") or "")
    headers = {"Content-Type": "application/json", "X-XSRFToken": xsrf}
    for number in range(NOTES):
        body = json.dumps({"title": f"note {number}", "body": "some text " * 20}).encode()
        opener.open(urllib.request.Request(f"{base}/api/notes", body, headers, method="POST"), timeout=30).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


@contextlib.contextmanager
def workers(project: Path, env: dict[str, str], count: int, logs: Path) -> Iterator[tuple[list[str], list[int]]]:
    """`count` workers of the project on fresh ports (migrated first when the project has migrations)."""
    env = {**env, "PYTHONUNBUFFERED": "1"}
    if (project / "alembic.ini").is_file():
        subprocess.run(
            [sys.executable, "-m", "mysite", "migrate"],
            cwd=project,
            env={**os.environ, **env},
            capture_output=True,
            check=True,
            timeout=120,
        )
    ports = [free_port() for _ in range(count)]
    started = []
    try:
        for port in ports:
            argv = [sys.executable, "-m", "mysite", "--port", str(port), "--address", "127.0.0.1"]
            started.append(Process(argv, logs / f"worker-{port}.log", cwd=project, env=env))
        for port in ports:
            wait_for_http(f"http://127.0.0.1:{port}/login", timeout=60)
        yield [f"http://127.0.0.1:{port}" for port in ports], [process.popen.pid for process in started]
    finally:
        for process in started:
            process.stop()


def measure(project: Path, env: dict[str, str], count: int, logs: Path, args: argparse.Namespace) -> dict[str, Result]:
    """The two endpoints on `count` workers over one fresh database."""
    with workers(project, env, count, logs) as (bases, pids):
        cookie = sign_up_with_notes(bases[0])
        drive(bases, pids, "/login", "", args)  # warm-up, not counted
        return {
            "login page": drive(bases, pids, "/login", "", args),
            "notes API": drive(bases, pids, f"/api/notes?limit={NOTES}", cookie, args),
        }


def best(runs: list[dict[str, Result]]) -> dict[str, Result]:
    """Per endpoint, the run with the most requests/s, with the least CPU per request of all runs."""
    fastest = {key: max((run[key] for run in runs), key=lambda r: r.rps) for key in runs[0]}
    return {key: replace(result, cpu_ms=min(run[key].cpu_ms for run in runs)) for key, result in fastest.items()}


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="tkit-bench-db-") as scratch, throwaway_cluster() as cluster:
        folder = Path(scratch)
        logs = folder / "logs"
        logs.mkdir()
        old = render_project(folder / "old", old_skeleton(folder / "old-templates"))
        new = render_project(folder / "new", None)
        databases = iter(range(1000))

        def sqlite(project: Path) -> dict[str, str]:
            path = folder / f"db-{next(databases)}.sqlite3"
            if (project / "alembic.ini").is_file():
                return {"DATABASE_URL": f"sqlite:///{path}"}
            return {"DATABASE_PATH": str(path)}

        def postgres(project: Path) -> dict[str, str]:
            return {"DATABASE_URL": cluster.create_database(f"bench_{next(databases)}")}

        configurations = [
            ("before, SQLite, 1 worker", old, sqlite, 1),
            ("now, SQLite, 1 worker", new, sqlite, 1),
            ("before, SQLite, 2 workers", old, sqlite, 2),
            ("now, SQLite, 2 workers", new, sqlite, 2),
            ("now, PostgreSQL, 1 worker", new, postgres, 1),
            ("now, PostgreSQL, 2 workers", new, postgres, 2),
        ]
        runs: dict[str, list[dict[str, Result]]] = {name: [] for name, *_ in configurations}
        for _ in range(args.repeat):
            for name, project, database, count in configurations:
                runs[name].append(measure(project, database(project), count, logs, args))
                time.sleep(0.5)
    report({name: best(found) for name, found in runs.items()}, args)
    report_paired(runs)


def report(results: dict[str, dict[str, Result]], args: argparse.Namespace) -> None:
    """One table, then the ratios that answer the questions: no slower than before, SQLite vs PostgreSQL."""
    print(f"wrk -t2 -c{args.connections} -d{args.duration}s per worker, best of {args.repeat}")
    print(f"{'configuration':<28} {'endpoint':<11} {'req/s':>9} {'p99 ms':>8} {'CPU ms/req':>11}")
    for name, endpoints in results.items():
        for endpoint, result in endpoints.items():
            print(f"{name:<28} {endpoint:<11} {result.rps:>9.0f} {result.p99_ms:>8.1f} {result.cpu_ms:>11.3f}")
    print()
    for endpoint in ("login page", "notes API"):
        for workers_text in ("1 worker", "2 workers"):
            before = results[f"before, SQLite, {workers_text}"][endpoint]
            now = results[f"now, SQLite, {workers_text}"][endpoint]
            pg = results[f"now, PostgreSQL, {workers_text}"][endpoint]
            print(
                f"{endpoint}, {workers_text}: now/before on SQLite {now.rps / before.rps:.2f}x req/s, "
                f"{before.cpu_ms / now.cpu_ms:.2f}x by CPU per request "
                f"(p99 {now.p99_ms:.1f} vs {before.p99_ms:.1f} ms); PostgreSQL/SQLite {pg.rps / now.rps:.2f}x"
            )


def report_paired(runs: dict[str, list[dict[str, Result]]]) -> None:
    """now/before per round (the two measured minutes apart, so a slow spell of the machine hits both): the median
    and the range over the rounds. The login page runs the same code before and after: its spread is the noise."""
    print("\nnow/before on SQLite per round (median [lowest-highest] of the rounds):")
    for endpoint in ("login page", "notes API"):
        for workers_text in ("1 worker", "2 workers"):
            pairs = zip(runs[f"before, SQLite, {workers_text}"], runs[f"now, SQLite, {workers_text}"], strict=True)
            rps, cpu = [], []
            for before, now in pairs:
                rps.append(now[endpoint].rps / before[endpoint].rps)
                cpu.append(before[endpoint].cpu_ms / now[endpoint].cpu_ms)
            print(f"{endpoint}, {workers_text}: req/s {spread(rps)}, by CPU per request {spread(cpu)}")


def spread(ratios: list[float]) -> str:
    """`1.02x [0.95-1.10]`: the median ratio and the lowest and highest."""
    ratios = sorted(ratios)
    return f"{statistics.median(ratios):.2f}x [{ratios[0]:.2f}-{ratios[-1]:.2f}]"


if __name__ == "__main__":
    main()
