"""`tkit new --git`: put the new project under version control with a first commit (secrets excluded)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from tornado_kit.new.skeleton import PRIVATE_FILES

COMMIT_MESSAGE = "Initial commit: project created by tkit new"
_FALLBACK_IDENTITY = {"name": "tkit", "email": "tkit@localhost"}


def init_repository(root: Path, files: Iterable[PurePosixPath]) -> str | None:
    """Run `git init` and commit `files` (never .env); return a warning when git is missing or fails."""
    git = shutil.which("git")
    if git is None:
        return "git is not installed; --git skipped (the project is written)"
    tracked = [str(path) for path in files if str(path) not in PRIVATE_FILES]
    # Committing with a pathspec records only tkit's files, whatever else was already staged there.
    commit = ["commit", "--quiet", "--no-verify", "-m", COMMIT_MESSAGE, "--", *tracked]
    steps = [["init", "--quiet"], ["add", "--", *tracked], commit]
    env = _environment(git, root)
    for step in steps:
        result = subprocess.run(
            [git, *step], check=False, cwd=root, env=env, capture_output=True, text=True, timeout=60
        )
        if result.returncode != 0:
            detail = (result.stderr.strip().splitlines() or ["no message"])[-1]
            return f"git {step[0]} failed ({detail}); the project is written, without a commit"
    return None


def _environment(git: str, root: Path) -> dict[str, str]:
    """The environment for git, with a fallback author only when the user has none configured."""
    env = dict(os.environ)
    for part in ("name", "email"):
        configured = subprocess.run(
            [git, "config", "--get", f"user.{part}"],
            check=False,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if not configured.stdout.strip() and not env.get(f"GIT_AUTHOR_{part.upper()}"):
            env[f"GIT_AUTHOR_{part.upper()}"] = env[f"GIT_COMMITTER_{part.upper()}"] = _FALLBACK_IDENTITY[part]
    return env
