"""`--workers auto`: CPU affinity lowered by cgroup v2 / v1 quotas, read from fake /proc and /sys trees."""

from __future__ import annotations

from pathlib import Path

import pytest

from tornado_kit.deploy.cpus import (
    cgroup_paths,
    parse_cgroup_v1_quota,
    parse_cgroup_v2_max,
    usable_cpus,
)


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii")
    return root


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("max 100000\n", None), ("200000 100000\n", 2.0), ("150000 100000", 1.5), ("50000 100000", 0.5), ("", None)],
)
def test_parse_cgroup_v2_cpu_max(text: str, cpus: float | None) -> None:
    assert parse_cgroup_v2_max(text) == cpus


def test_parse_cgroup_v1_quota() -> None:
    assert parse_cgroup_v1_quota("-1\n", "100000\n") is None
    assert parse_cgroup_v1_quota("300000\n", "100000\n") == 3.0


def test_cgroup_paths_reads_v2_and_v1_lines() -> None:
    text = "12:cpu,cpuacct:/docker/abc\n4:memory:/x\n0::/system.slice/app.service\n"
    assert cgroup_paths(text) == ("/system.slice/app.service", "/docker/abc")


def test_no_cgroup_files_means_the_affinity_count(tmp_path: Path) -> None:
    result = usable_cpus(root=tmp_path, affinity=8)
    assert result.count == 8
    assert "8 CPU(s) in this process's affinity mask" in result.reason
    assert "no cgroup CPU quota" in result.reason


def test_cgroup_v2_quota_lowers_and_rounds_up(tmp_path: Path) -> None:
    write(tmp_path, {"proc/self/cgroup": "0::/app.slice\n", "sys/fs/cgroup/app.slice/cpu.max": "250000 100000\n"})
    result = usable_cpus(root=tmp_path, affinity=8)
    assert result.count == 3
    assert "2.5 CPU(s) by the cgroup quota" in result.reason
    assert "app.slice/cpu.max" in result.reason


def test_cgroup_v2_quota_on_a_parent_applies(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "proc/self/cgroup": "0::/a/b\n",
            "sys/fs/cgroup/a/cpu.max": "100000 100000\n",
            "sys/fs/cgroup/a/b/cpu.max": "max 100000\n",
        },
    )
    assert usable_cpus(root=tmp_path, affinity=4).count == 1


def test_cgroup_v1_quota_in_a_container(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "proc/self/cgroup": "3:cpu,cpuacct:/docker/abc\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "200000\n",
            "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        },
    )
    result = usable_cpus(root=tmp_path, affinity=16)
    assert result.count == 2
    assert "cpu.cfs_quota_us" in result.reason


def test_quota_above_affinity_does_not_raise_the_count(tmp_path: Path) -> None:
    write(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "800000 100000\n"})
    result = usable_cpus(root=tmp_path, affinity=2)
    assert result.count == 2
    assert "does not lower it" in result.reason


def test_never_fewer_than_one(tmp_path: Path) -> None:
    write(tmp_path, {"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "10000 100000\n"})
    assert usable_cpus(root=tmp_path, affinity=4).count == 1
    assert usable_cpus(root=tmp_path, affinity=0).count == 1


def test_this_machine_gives_a_sane_count() -> None:
    import os

    result = usable_cpus()
    assert 1 <= result.count <= len(os.sched_getaffinity(0))
