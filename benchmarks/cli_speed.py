"""How fast `tkit --help` and `tkit new mysite` start, as medians and as ratios to `python -c pass`
measured in the same run (so a slow or busy machine shows in the baseline, not as a false regression).

    python benchmarks/cli_speed.py [--runs 21]

Targets: `tkit --help` under 60 ms wall, `tkit new mysite` under 100 ms wall, and `tkit new mysite` at least
1.5x faster than `django-admin startproject mysite` timed in the same run (when Django is importable). `tkit new` keeps
Jinja2's compiled templates in a per-user cache; the "(no template cache)" row shows a run without it. The
breakdown below the table shows where `tkit new` spends its time (imports, rendering, writing).

tornado_kit is byte-compiled first, as pip does when it installs the wheel: with PYTHONDONTWRITEBYTECODE
set (as on this machine) an editable checkout would otherwise recompile every module on every run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

TARGETS_MS = {"tkit --help": 60.0, "tkit new mysite": 100.0}
DJANGO = "django-admin startproject"
MIN_RATIO_TO_DJANGO = 1.5

BREAKDOWN = """
import time; t0 = time.perf_counter()
import click; t1 = time.perf_counter()
from tornado_kit.cli import main; t2 = time.perf_counter()
from tornado_kit.new.project import project_context, render_project, plan_project, apply_plan; t3 = time.perf_counter()
files = render_project(project_context("mysite", "mysite")); t4 = time.perf_counter()
import sys, pathlib; apply_plan(plan_project(files, pathlib.Path(sys.argv[1]), force=False)); t5 = time.perf_counter()
marks = [t0, t1, t2, t3, t4, t5]
names = ["import click", "import tornado_kit.cli", "import tornado_kit.new (Jinja2 included)",
         f"render {len(files)} files", "plan + write"]
for name, a, b in zip(names, marks, marks[1:]):
    print(f"  {name:<44} {1000 * (b - a):7.1f} ms")
"""


def tkit_command() -> list[str]:
    """The installed `tkit` console script next to this interpreter, else `python -m tornado_kit`."""
    script = Path(sys.executable).parent / "tkit"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "tornado_kit"]


def django_command() -> list[str] | None:
    """`django-admin` next to this interpreter (else `python -m django`), or None when Django is not importable."""
    import importlib.util

    if importlib.util.find_spec("django") is None:
        return None
    script = Path(sys.executable).parent / "django-admin"
    return [str(script)] if script.is_file() else [sys.executable, "-m", "django"]


def time_once(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU (user + system) time of one run, in ms; the run must succeed.

    A leading `VAR=value` sets the environment.

    Waits with a blocking wait4, not subprocess.run(timeout=...): that polls with sleeps of up to 50 ms,
    which rounded every figure up to the next poll. A run still going after 60 s is killed.
    """
    env = dict(os.environ)
    while "=" in argv[0]:
        key, value = argv[0].split("=", 1)
        env[key], argv = value, argv[1:]
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killer = threading.Timer(60, process.kill)
    killer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        killer.cancel()
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, argv)
    return 1000 * wall, 1000 * (usage.ru_utime + usage.ru_stime)


def measure(commands: dict[str, list[str]], runs: int, scratch: Path) -> dict[str, list[tuple[float, float]]]:
    """Time every command `runs` times after two warm-up rounds, interleaved so load hits all alike."""
    timings: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for round_index in range(runs + 2):
        for name, argv in commands.items():
            elapsed = time_once(argv, scratch)
            shutil.rmtree(scratch / "mysite", ignore_errors=True)
            if round_index >= 2:
                timings[name].append(elapsed)
    return timings


def main() -> None:
    """Measure the baseline and both commands in one run and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    tkit = tkit_command()
    import tornado_kit  # byte-compile it as pip does on install (see the module docstring)

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(tornado_kit.__file__).parent)], check=True, timeout=120
    )
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tkit --help": [*tkit, "--help"],
        "tkit new mysite": [*tkit, "new", "mysite"],
        "  (no template cache)": ["TKIT_NO_TEMPLATE_CACHE=1", *tkit, "new", "mysite"],
    }
    django = django_command()
    if django is not None:
        commands[DJANGO] = [*django, "startproject", "mysite"]
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        results = measure(commands, runs, scratch)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"tkit = {' '.join(tkit)}; {runs} interleaved runs each after 2 warm-up rounds; "
            f"Python {sys.version.split()[0]}"
        )
        print(f"load average after the runs: {load} ({os.cpu_count()} CPUs; a busy machine inflates every row alike)")
        print_table(results)
        print_django_ratio(results)
        print("\nWhere `tkit new mysite` spends its time (one process, after interpreter start-up):")
        subprocess.run([sys.executable, "-c", BREAKDOWN, str(scratch / "breakdown")], check=True, timeout=60)


def print_table(results: dict[str, list[tuple[float, float]]]) -> None:
    """Wall median and min, ratio to the baseline, time over it, and the CPU-time median (less sensitive to load)."""
    base_wall = statistics.median(wall for wall, _ in results["python -c pass"])
    base_cpu = statistics.median(cpu for _, cpu in results["python -c pass"])
    print(
        f"{'command':<27}{'median':>9}{'min':>9}{'ratio':>8}{'over base':>11}{'cpu':>9}{'cpu ratio':>10}  target (wall)"
    )
    for name, timings in results.items():
        median = statistics.median(wall for wall, _ in timings)
        cpu = statistics.median(cpu for _, cpu in timings)
        target = TARGETS_MS.get(name)
        verdict = "" if target is None else f"< {target:.0f} ms: {'met' if median < target else 'NOT met'}"
        fastest = min(wall for wall, _ in timings)
        print(
            f"{name:<27}{median:>7.1f}ms{fastest:>7.1f}ms{median / base_wall:>7.2f}x{median - base_wall:>9.1f}ms"
            f"{cpu:>7.1f}ms{cpu / base_cpu:>9.2f}x  {verdict}"
        )


def print_django_ratio(results: dict[str, list[tuple[float, float]]]) -> None:
    """How many times faster `tkit new` is than `django-admin startproject`, both from this run."""
    if DJANGO not in results:
        print(f"\n{DJANGO}: Django is not importable here; pip install -e '.[test]' adds it")
        return
    tkit = statistics.median(wall for wall, _ in results["tkit new mysite"])
    django = statistics.median(wall for wall, _ in results[DJANGO])
    ratio = django / tkit
    verdict = "met" if ratio >= MIN_RATIO_TO_DJANGO else "NOT met"
    print(f"\n`tkit new mysite` is {ratio:.2f}x faster than `{DJANGO} mysite`", end="")
    print(f" (wall medians {tkit:.1f} ms vs {django:.1f} ms)")
    print(f"target: at least {MIN_RATIO_TO_DJANGO}x: {verdict}")


if __name__ == "__main__":
    main()
