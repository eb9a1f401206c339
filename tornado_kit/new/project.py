"""The whole `tkit new` job: check the name, render the skeleton, plan, write all-or-nothing, then git."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import NamedTuple

from tornado_kit import __version__
from tornado_kit.errors import TargetExists
from tornado_kit.new.names import ProjectName, check_name
from tornado_kit.new.skeleton import render_project
from tornado_kit.plan import FileAction, Plan, RenderedFile, plan_files
from tornado_kit.writer import apply_plan

LABEL = "the project"


class NewProject(NamedTuple):
    """The outcome of `tkit new`: where the project is, what was (or would be) written, any warnings."""

    name: ProjectName
    plan: Plan
    written: bool
    warnings: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        """The project directory (absolute)."""
        return self.plan.target

    @property
    def files(self) -> list[Path]:
        """Every file of the project, absolute."""
        return [self.root / action.path for action in self.plan.actions]

    @property
    def overwritten(self) -> list[FileAction]:
        """Existing files replaced because of --force."""
        return self.plan.with_verb("overwrite")


def project_context(
    name: str,
    package: str,
    *,
    auth: bool = True,
    websocket: bool = True,
    redis: bool = False,
    postgres: bool = False,
) -> dict[str, object]:
    """Everything the project skeleton is rendered with; the secret is new for every project."""
    return {
        "name": name,
        "package": package,
        "auth": auth,
        "websocket": websocket,
        "redis": redis,
        "postgres": postgres,
        "cookie_secret": secrets.token_urlsafe(48),
        "tkit_version": __version__,
    }


def new_project(
    name: str,
    directory: Path,
    *,
    auth: bool = True,
    websocket: bool = True,
    redis: bool = False,
    postgres: bool = False,
    force: bool = False,
    dry_run: bool = False,
    git: bool = False,
    skeleton: Path | None = None,
) -> NewProject:
    """Check the name, render the skeleton, plan, and (unless dry_run) write it all-or-nothing."""
    checked = check_name(name)
    context = project_context(
        checked.name, checked.package, auth=auth, websocket=websocket, redis=redis, postgres=postgres
    )
    plan = plan_project(render_project(context, skeleton, cache_writable=not dry_run), Path(directory), force=force)
    if dry_run:
        return NewProject(checked, plan, written=False)
    apply_plan(plan)
    return NewProject(checked, plan, written=True, warnings=_commit_to_git(plan) if git else ())


def plan_project(files: list[RenderedFile], directory: Path, *, force: bool) -> Plan:
    """The plan for a project folder: new or empty, or (only with `force`) one with files in it."""
    plan = plan_files(files, directory, force=force, label=LABEL)
    if plan.state == "existing" and not force:
        raise TargetExists(
            f"{plan.target} exists and is not empty; use --force to write into it"
            " (nothing is deleted; every file overwritten is listed)"
        )
    plan.check_conflicts()
    return plan


def _commit_to_git(plan: Plan) -> tuple[str, ...]:
    """`git init` and a first commit of the project's files; any problem becomes a warning."""
    from tornado_kit.new.vcs import init_repository  # imports subprocess: 8-15 ms measured, only --git pays

    warning = init_repository(plan.target, [action.path for action in plan.actions])
    return (warning,) if warning else ()
