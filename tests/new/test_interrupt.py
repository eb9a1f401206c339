"""A real Ctrl-C (SIGINT to a running `tkit new`) while it writes or moves files leaves nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import take_snapshot

# Runs `tkit new` with a pause after each write or move, announced on stdout, so the test can interrupt it mid-way.
# SIGINT gets Python's own handler back, as in a terminal: a shell's background job starts with it ignored.
SLOWED_TKIT = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from tornado_kit import writer
slowed = getattr(writer, sys.argv[1])
def pausing(*args):
    slowed(*args)
    print("step", flush=True)
    time.sleep(0.3)
setattr(writer, sys.argv[1], pausing)
from tornado_kit.cli import main
main(sys.argv[2:], prog_name="tkit")
"""


@pytest.mark.slow
@pytest.mark.parametrize(("function", "force"), [("_write_all", False), ("_move", True)])
def test_sigint_midway_restores_the_tree(function: str, force: bool, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    args = ["new", "mysite"]
    if force:
        subprocess.run(
            [sys.executable, "-m", "tornado_kit", *args], cwd=work, check=True, capture_output=True, timeout=60
        )
        (work / "mysite" / "pyproject.toml").write_text("# mine\n")
        (work / "mysite" / ".gitignore").write_text("# mine\n")
        args.append("--force")
    before = take_snapshot(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", SLOWED_TKIT, function, *args],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        for _ in range(2):  # let two steps complete, then interrupt during the third
            assert process.stdout.readline().strip() == "step"
        os.kill(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert process.returncode == 1 and "Aborted" in stderr, stderr
    assert take_snapshot(tmp_path) == before
