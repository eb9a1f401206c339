"""How long `tkit generate` takes against `tkit new` in the same run (the target: generate is no slower).

    python benchmarks/generate_speed.py [--runs 15]

Each generator runs in a fresh copy of one project made by `tkit new` (the copy is not timed); `tkit new`
writes a new project each time. Medians of interleaved runs after two warm-up rounds, with `python -c
pass` as the baseline, so a busy machine shows in every row alike. tornado_kit is byte-compiled first,
as pip does when it installs the wheel.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cli_speed import time_once, tkit_command  # the sibling benchmark's timing helpers

RESOURCE = ["book", "title:str(200)", "notes:text?", "pages:int", "price:float?", "done:bool", "due:date?"]


def commands(tkit: list[str], data_layer: bool) -> dict[str, list[str]]:
    """What is timed; a generator's name starts with `g ` and runs inside a project copy."""
    timed = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "tkit new mysite": [*tkit, "new", "mysite"],
        "g page about": [*tkit, "g", "page", "about"],
        "g websocket ticker": [*tkit, "g", "websocket", "ticker"],
    }
    if data_layer:
        timed["g resource book (6 fields)"] = [*tkit, "g", "resource", *RESOURCE]
    return timed


def measure(
    timed: dict[str, list[str]], runs: int, scratch: Path, pristine: Path
) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) times in ms, interleaved; generators get a fresh project copy each time."""
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in timed}
    for round_index in range(runs + 2):
        for name, argv in timed.items():
            work = scratch / "mysite"
            shutil.rmtree(work, ignore_errors=True)
            cwd = scratch
            if name.startswith("g "):
                shutil.copytree(pristine, work, symlinks=True)
                cwd = work
            timing = time_once(argv, cwd)
            if round_index >= 2:
                results[name].append(timing)
    return results


def medians(timings: list[tuple[float, float]]) -> tuple[float, float]:
    """Median wall and median CPU time."""
    return statistics.median(w for w, _ in timings), statistics.median(c for _, c in timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    import tornado_kit

    package = str(Path(tornado_kit.__file__).parent)
    subprocess.run([sys.executable, "-m", "compileall", "-q", package], check=True, timeout=120)
    tkit = tkit_command()
    with tempfile.TemporaryDirectory() as tmp:
        scratch, pristine = Path(tmp) / "scratch", Path(tmp) / "pristine"
        scratch.mkdir()
        subprocess.run([*tkit, "new", "mysite", str(pristine)], check=True, capture_output=True, timeout=60)
        data_layer = (pristine / "mysite" / "tables.py").is_file()
        results = measure(commands(tkit, data_layer), runs, scratch, pristine)
    print(f"{runs} interleaved runs each after 2 warm-up rounds; Python {sys.version.split()[0]}")
    print(f"{'command':<30}{'wall':>9}{'min':>9}{'vs new':>8}{'cpu':>9}{'vs new':>8}")
    new_wall, new_cpu = medians(results["tkit new mysite"])
    for name, timings in results.items():
        wall, cpu = medians(timings)
        fastest = min(w for w, _ in timings)
        print(f"{name:<30}{wall:>7.1f}ms{fastest:>7.1f}ms{wall / new_wall:>7.2f}x{cpu:>7.1f}ms{cpu / new_cpu:>7.2f}x")
    for column, new in (("wall", new_wall), ("cpu", new_cpu)):
        index = 0 if column == "wall" else 1
        slowest = max(medians(t)[index] for name, t in results.items() if name.startswith("g "))
        verdict = "met" if slowest <= new else "NOT met"
        print(
            f"slowest generator ({column} median) {slowest:.1f} ms vs tkit new {new:.1f} ms:"
            f" no slower than new: {verdict}"
        )
    if not data_layer:
        print("(this project has no tables.py, so `g resource` was not timed)")


if __name__ == "__main__":
    main()
