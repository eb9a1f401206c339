"""Count the CPUs this process may really use: affinity and cgroup v1/v2 quotas, as in a container."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuCount:
    """How many workers `--workers auto` gives, and why."""

    count: int
    reason: str


def parse_cgroup_v2_max(text: str) -> float | None:
    """CPUs allowed by a cgroup v2 `cpu.max` line ("max 100000" or "150000 100000"); None if unlimited."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    quota, period = int(parts[0]), int(parts[1])
    return quota / period if quota > 0 and period > 0 else None


def parse_cgroup_v1_quota(quota_text: str, period_text: str) -> float | None:
    """CPUs allowed by cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`; None if unlimited (-1)."""
    quota, period = int(quota_text.strip()), int(period_text.strip())
    return quota / period if quota > 0 and period > 0 else None


def cgroup_paths(proc_self_cgroup: str) -> tuple[str | None, str | None]:
    """The (v2 path, v1 cpu controller path) of this process, from /proc/self/cgroup."""
    v2 = v1 = None
    for line in proc_self_cgroup.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and controllers == "":
            v2 = path
        elif "cpu" in controllers.split(","):
            v1 = path
    return v2, v1


def _ancestors(mount: Path, path: str | None) -> list[Path]:
    """`mount/path` and each parent up to `mount` (a limit on any ancestor applies too)."""
    relative = Path((path or "/").lstrip("/"))
    dirs = [mount / relative, *(mount / parent for parent in relative.parents)]
    return list(dict.fromkeys(dirs))


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        return None


def cgroup_cpu_limit(root: Path = Path("/")) -> tuple[float, str] | None:
    """The tightest CPU quota of this process's cgroups (v2, then v1) and the file it came from."""
    v2, v1 = cgroup_paths(_read(root / "proc/self/cgroup") or "")
    limits: list[tuple[float, str]] = []
    for directory in _ancestors(root / "sys/fs/cgroup", v2):
        text = _read(directory / "cpu.max")
        value = parse_cgroup_v2_max(text) if text else None
        if value is not None:
            limits.append((value, str(directory / "cpu.max")))
    for mount in (root / "sys/fs/cgroup/cpu", root / "sys/fs/cgroup/cpu,cpuacct"):
        for directory in _ancestors(mount, v1):
            quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
            value = parse_cgroup_v1_quota(quota, period) if quota and period else None
            if value is not None:
                limits.append((value, str(directory / "cpu.cfs_quota_us")))
    return min(limits) if limits else None


def usable_cpus(root: Path = Path("/"), affinity: int | None = None) -> CpuCount:
    """CPUs from the affinity mask, lowered by a cgroup quota (rounded up), never fewer than 1."""
    if affinity is None:
        affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    reason = f"{affinity} CPU(s) in this process's affinity mask"
    count = affinity
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        quota, source = limit
        if math.ceil(quota) < count:
            count = math.ceil(quota)
            reason += f", limited to {quota:g} CPU(s) by the cgroup quota in {source}"
        else:
            reason += f"; the cgroup quota in {source} ({quota:g} CPUs) does not lower it"
    else:
        reason += "; no cgroup CPU quota"
    return CpuCount(max(1, count), reason)
