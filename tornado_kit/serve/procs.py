"""Process plumbing for the dev server: children that die with their parent, process trees."""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def exit_with_parent(expected_parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux), and exit now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != expected_parent:
        os._exit(1)


def signal_pid(pid: int, signum: int) -> bool:
    """Send a signal to one tracked process; False when it is already gone."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    return True
