"""The whole `tkit deploy-config` job: validate, render, write, then report what was done."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import click

from tornado_kit import console
from tornado_kit.deploy.cpus import CpuCount, usable_cpus
from tornado_kit.deploy.options import DeployOptions, RawOptions, build_options
from tornado_kit.deploy.render import render_deploy
from tornado_kit.deploy.writer import apply_writes, plan_writes


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
    plan = plan_writes(options.out, files, force)
    if not dry_run:
        apply_writes(plan)
    console.status(f"workers: {options.workers.count} ({options.workers.reason})")
    for item in plan:
        console.status(f"{item.action:>10}  {item.path}" + (" (dry run: not written)" if dry_run else ""))
    for warning in options.warnings:
        console.warn(warning)
    click.echo(files["README.md"], nl=False)
    return options
