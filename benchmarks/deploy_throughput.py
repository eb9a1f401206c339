"""Requests per second through the rendered nginx + supervisor set-up against one worker reached directly.

Generates a project, renders its configs with `tkit deploy-config --workers N`, starts real supervisord
and nginx on loopback (tests/deploy/harness.py), then runs wrk in the same run against:
the login page and a static file (the versioned `static_url` of style.css) through nginx with N
workers, and the same two URLs on one worker reached directly (Tornado's StaticFileHandler for the
file). Prints requests/s, the ratio to the direct worker, and the share of failed requests
(socket errors plus non-2xx/3xx answers).

    python benchmarks/deploy_throughput.py [--workers N] [--duration 10] [--connections 50]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from deploy.harness import Deployment


@dataclass(frozen=True)
class WrkResult:
    """One wrk run: throughput and how many requests failed."""

    requests: int
    per_second: float
    failed: int

    @property
    def error_share(self) -> float:
        """Failed requests as a share of all requests."""
        return self.failed / self.requests if self.requests else 1.0


def parse_args() -> argparse.Namespace:
    """Workers, duration and load of the runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="workers behind nginx (N)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    return parser.parse_args()


def wrk(url: str, args: argparse.Namespace) -> WrkResult:
    """Run wrk against `url` and parse its summary."""
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s", url]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=args.duration + 60).stdout
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    per_second = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    failed = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    return WrkResult(requests, per_second, failed + (int(non_2xx.group(1)) if non_2xx else 0))


def static_path(deployment: Deployment) -> str:
    """The versioned URL the login page links its stylesheet with."""
    with urllib.request.urlopen(deployment.url + "/login", timeout=30) as response:
        page = response.read().decode()
    return re.search(r'href="(/static/style\.css\?v=[0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]


def measure(deployment: Deployment, args: argparse.Namespace) -> None:
    """Direct worker first, then nginx, for the page and the static file; print one table."""
    static = static_path(deployment)
    print(f"{'what':<34} {'req/s':>10} {'vs direct':>10} {'errors':>8}")
    for label, path in (("login page", "/login"), ("static file", static)):
        direct = wrk(deployment.worker_url(0) + path, args)
        proxied = wrk(deployment.url + path, args)
        for name, result in (
            (f"{label}, 1 worker direct", direct),
            (f"{label}, nginx + {args.workers} workers", proxied),
        ):
            ratio = result.per_second / direct.per_second
            print(f"{name:<34} {result.per_second:>10.0f} {ratio:>9.1f}x {result.error_share:>8.2%}")


def main() -> int:
    """Generate a project, deploy it on loopback, measure, clean up."""
    args = parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 1
    from tornado_kit.new import new_project

    with tempfile.TemporaryDirectory(prefix="tk-bench-") as temp:
        workdir = Path(temp)
        new_project("mysite", workdir / "mysite")
        with Deployment.start(
            workdir / "mysite", workdir, workers=args.workers, nginx_workers=args.workers
        ) as deployment:
            print(
                f"{args.workers} workers, {os.cpu_count()} CPUs, "
                f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
            )
            measure(deployment, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
