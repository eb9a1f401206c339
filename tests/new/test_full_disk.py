"""A real full disk: `tkit new` into a tiny tmpfs fails with a one-line error and leaves it empty.
Needs permission to mount (root in CI); skipped where mounting is not allowed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import take_snapshot


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: too small for a project (every file takes at least one 4 KiB page)."""
    mountpoint = tmp_path / "tiny"
    mountpoint.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mountpoint)],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], capture_output=True, timeout=30, check=False)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["mysite", "."])
def test_a_full_disk_leaves_nothing_behind(tiny_disk: Path, target: str) -> None:
    before = take_snapshot(tiny_disk)
    result = subprocess.run(
        [sys.executable, "-m", "tornado_kit", "new", "mysite", target],
        cwd=tiny_disk,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.startswith("Error: could not write the project") and "No space left on device" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert take_snapshot(tiny_disk) == before
    assert shutil.disk_usage(tiny_disk).used == 0
