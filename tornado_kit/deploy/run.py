"""The whole `tkit deploy-config` job: validate, render, plan, write, then report what was done."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import PurePosixPath

import click

from tornado_kit import console
from tornado_kit.deploy.configs import render_deploy
from tornado_kit.deploy.cpus import CpuCount, usable_cpus
from tornado_kit.deploy.options import DeployOptions, RawOptions, build_options
from tornado_kit.plan import RenderedFile, plan_files
from tornado_kit.writer import apply_plan

LABEL = "the deploy files"


def deploy_config(
    given: Mapping[str, object],
    *,
    force: bool = False,
    dry_run: bool = False,
    cpu_counter: Callable[[], CpuCount] = usable_cpus,
) -> DeployOptions:
    """Write the deploy files for the options the user gave; print the install steps on stdout."""
    raw = RawOptions(**{key: value for key, value in given.items() if value is not None})  # type: ignore[arg-type]
    options = build_options(raw, cpu_counter)
    files = render_deploy(options)  # everything is rendered before anything is written
    rendered = [RenderedFile(PurePosixPath(path), text.encode("utf-8"), 0o644) for path, text in files.items()]
    plan = plan_files(rendered, options.out, force=force, label=LABEL)
    if not dry_run:
        apply_plan(plan)  # refuses the whole plan if any file conflicts
    console.status(f"workers: {options.workers.count} ({options.workers.reason})")
    for action in plan.actions:
        console.status(
            f"{action.verb:>10}  {plan.target / action.path}" + (" (dry run: not written)" if dry_run else "")
        )
    for warning in options.warnings:
        console.warn(warning)
    click.echo(files["README.md"], nl=False)
    return options
