"""Reload speed of `tkit serve` against Tornado's own autoreload, on a freshly generated project.

For each server: 20 times, rewrite a handler file and poll (a fresh connection every few ms) until a
response carries the new code; print median and p90 of write-to-new-response, and the failed
requests (refused, reset, 5xx, timeouts). For `tkit serve`, also the idle memory of its process tree
(RSS and PSS) and its idle CPU over 10 s. Run: python benchmarks/reload.py [--reloads 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support import free_port, stop_process_group

WRAPPER = """\
import importlib, pathlib, tomllib
from {package} import tkit_bench
_SPEC = tomllib.loads((pathlib.Path(__file__).parent / "pyproject.toml").read_text())["tool"]["tkit"]["app"]
def make_app():
    module, _, attribute = _SPEC.partition(":")
    app = getattr(importlib.import_module(module), attribute)()
    app.add_handlers(r".*", [(r"/tkit-bench", tkit_bench.BenchHandler)])
    return app
"""
HANDLER = """\
import tornado.web
class BenchHandler(tornado.web.RequestHandler):
    def get(self):
        self.write({version!r})
"""
AUTORELOAD_RUNNER = '''\
"""Tornado's own reloader on the same app: debug-style autoreload, `python -m tkit_bench_autoreload PORT`."""
import asyncio, sys
import tornado.autoreload
from tkit_bench_app import make_app
async def main():
    app = make_app()
    app.settings.update(serve_traceback=True, compiled_template_cache=False, static_hash_cache=False)
    app.listen(int(sys.argv[1]), "127.0.0.1")
    tornado.autoreload.start()
    await asyncio.Event().wait()
asyncio.run(main())
'''
POLL_EVERY = 0.003


@dataclass
class Result:
    """Latencies (ms) and failures seen while reloading one server."""

    name: str
    latencies: list[float] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    requests: int = 0

    def fail(self, kind: str) -> None:
        self.failures[kind] = self.failures.get(kind, 0) + 1


def get(port: int, timeout: float = 5.0) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/tkit-bench")
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def poll_until(port: int, version: str, result: Result, limit: float = 30.0) -> float:
    """Poll until the body is `version`; return seconds since `start`, counting failures on the way."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        result.requests += 1
        try:
            status, body = get(port)
            if status >= 500:
                result.fail(f"HTTP {status}")
            elif body == version:
                return time.perf_counter() - start
        except (ConnectionRefusedError, ConnectionResetError) as exc:
            result.fail(type(exc).__name__)
        except (http.client.HTTPException, OSError) as exc:
            result.fail(type(exc).__name__)
        time.sleep(POLL_EVERY)
    raise SystemExit(f"{result.name}: version {version} never served within {limit} s")


def make_project(workdir: Path) -> tuple[Path, Path]:
    """A default generated project plus the bench route; returns (root, handler file)."""
    from tornado_kit.new import new_project
    from tornado_kit.project import load_project

    root = workdir / "mysite"
    new_project("mysite", root)
    package = load_project(root).package
    (root / "tkit_bench_app.py").write_text(WRAPPER.format(package=package))
    (root / "tkit_bench_autoreload.py").write_text(AUTORELOAD_RUNNER)
    handler = root / package / "tkit_bench.py"
    handler.write_text(HANDLER.format(version="v0"))
    return root, handler


def start(command: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def measure_reloads(name: str, port: int, handler: Path, reloads: int) -> Result:
    result = Result(name)
    poll_until(port, "v0", Result("warm-up"), limit=60)
    time.sleep(1.0)
    for n in range(1, reloads + 1):
        version = f"{name}-{n}"
        handler.write_text(HANDLER.format(version=version))
        result.latencies.append(1000.0 * poll_until(port, version, result))
        time.sleep(0.6)  # let the old process go; keeps edits apart for mtime-polling reloaders
    return result


def process_tree(root: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(text[text.rindex(")") + 2 :].split()[1])
    tree, todo = [root], [root]
    while todo:
        current = todo.pop()
        for pid, parent in parents.items():
            if parent == current:
                tree.append(pid)
                todo.append(pid)
    return tree


def memory_kib(pids: list[int]) -> tuple[int, int]:
    """Summed RSS and PSS (shared pages split between the processes that share them), in KiB."""
    rss = pss = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue
    return rss, pss


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2 :].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def idle_figures(pid: int, seconds: float = 10.0) -> tuple[int, int, float, int]:
    time.sleep(2.0)
    pids = process_tree(pid)
    rss, pss = memory_kib(pids)
    before = cpu_seconds(pids)
    time.sleep(seconds)
    used = cpu_seconds(pids) - before
    return rss, pss, 100.0 * used / seconds, len(pids)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def report(result: Result) -> None:
    failed = sum(result.failures.values())
    detail = ", ".join(f"{k} {v}" for k, v in sorted(result.failures.items())) or "none"
    print(
        f"{result.name:<20} median {statistics.median(result.latencies):7.1f} ms   "
        f"p90 {p90(result.latencies):7.1f} ms   "
        f"failed {failed} of {result.requests} requests ({detail})"
    )


def run_tkit(
    root: Path, handler: Path, logs: Path, reloads: int
) -> tuple[Result, tuple[int, int, float, int], list[float]]:
    """Reload timings, idle figures and the server's own reported reload times for `tkit serve`."""
    port = free_port()
    command = [sys.executable, "-m", "tornado_kit", "serve", "--port", str(port), "--app", "tkit_bench_app:make_app"]
    tkit = start(command, root, logs / "tkit.log")
    try:
        result = measure_reloads("tkit serve", port, handler, reloads)
        idle = idle_figures(tkit.pid)
    finally:
        stop_process_group(tkit, signal.SIGINT, timeout=10)
    log = (logs / "tkit.log").read_text()
    return result, idle, [float(ms) for ms in re.findall(r"^Reloaded .* in (\d+) ms", log, re.MULTILINE)]


def run_autoreload(root: Path, handler: Path, logs: Path, reloads: int) -> Result:
    """Reload timings for Tornado's own autoreload on the same app."""
    handler.write_text(HANDLER.format(version="v0"))
    port = free_port()
    tornado = start([sys.executable, "-m", "tkit_bench_autoreload", str(port)], root, logs / "autoreload.log")
    try:
        return measure_reloads("tornado autoreload", port, handler, reloads)
    finally:
        stop_process_group(tornado, signal.SIGINT, timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=20)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tkit-bench-") as temp:
        root, handler = make_project(Path(temp))
        ours, idle, reported = run_tkit(root, handler, Path(temp), args.reloads)
        theirs = run_autoreload(root, handler, Path(temp), args.reloads)
    print(
        f"reload: handler write -> first response with the new code, {args.reloads} reloads, "
        f"poll every {POLL_EVERY * 1000:.0f} ms"
    )
    print(f"machine: {os.cpu_count()} cores, load average {load_before:.1f} at start, {os.getloadavg()[0]:.1f} at end")
    report(ours)
    if reported:
        print(
            f"{'':<20} (its own log: first file event -> new process serving, "
            f"median {statistics.median(reported):.0f} ms)"
        )
    report(theirs)
    ratio = statistics.median(theirs.latencies) / statistics.median(ours.latencies)
    print(f"speed-up (median): {ratio:.1f}x faster than tornado autoreload")
    rss, pss, cpu, count = idle
    print(
        f"tkit serve idle: {count} processes, RSS {rss / 1024:.1f} MiB (PSS {pss / 1024:.1f} MiB), "
        f"CPU {cpu:.2f}% over 10 s"
    )


if __name__ == "__main__":
    main()
