"""Run the registered checks on a project and turn the findings into a report (secrets redacted)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tornado_kit.appload import AppLoadError, find_app, load_app, working_directory
from tornado_kit.check.base import REGISTRY, Finding, Level
from tornado_kit.check.context import CheckContext, load_deploy_files
from tornado_kit.console import style
from tornado_kit.errors import TkitError
from tornado_kit.settings import env_file_path, project_values

REDACTED = "********"
# Variables taken from supervisor's environment= when loading the app for --deploy: the ones that
# change what the checks judge. Paths (ENV_FILE), DATABASE_URL and REDIS_URL point at the server.
PRODUCTION_SETTINGS = ("DEBUG", "HTTPS", "MAX_BODY_SIZE", "SHUTDOWN_TIMEOUT", "ALLOWED_HOSTS")


class ChecksFailed(TkitError):
    """Findings at or above the fail level: exit status 1."""


@dataclass(frozen=True)
class Report:
    """What one `tkit check` run found."""

    findings: list[Finding]
    checks_run: int
    deploy: bool


def load_check_modules() -> None:
    """Import the modules that register checks (their import is what registers them)."""
    from tornado_kit.check import (
        app_checks,
        app_deploy_checks,
        database_checks,
        nginx_checks,
        settings_checks,
        supervisor_checks,
        tools,
    )

    del app_checks, app_deploy_checks, database_checks, nginx_checks, settings_checks, supervisor_checks, tools


def prepare_context(app_spec: str | None, deploy_dir: Path | None) -> tuple[CheckContext, str]:
    """The context without the app (loaded later, inside the loop) and the app spec."""
    target = find_app(app_spec)
    spec, root, project = target.spec, target.folder, target.project
    env_file = env_file_path(root)
    context = CheckContext(
        root=root,
        project=project,
        env=project_values(root),  # a settings file that is not text stops here: one line, exit 2
        env_file=env_file if env_file.exists() else None,
        deploy_dir=(deploy_dir or root / "deploy").resolve(),
    )
    return context, spec


@contextlib.contextmanager
def production_environment(context: CheckContext) -> Iterator[None]:
    """Apply the variables supervisor sets for the workers (HTTPS=1 with TLS, ...), as production does."""
    environment = context.supervisor[0].environment if context.supervisor else {}
    overrides = {name: value for name, value in environment.items() if name in PRODUCTION_SETTINGS}
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    context.env.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_app_into(context: CheckContext, spec: str) -> None:
    """Build the app; a failure to load becomes the app.E001 finding, never a traceback."""
    try:
        context.app = load_app(spec, context.root)
    except AppLoadError as exc:
        context.load_error = exc.reason


def run_checks(app_spec: str | None, deploy: bool, deploy_dir: Path | None = None) -> Report:
    """Load the app inside an event loop, from its project root, and run the selected checks."""
    load_check_modules()
    context, spec = prepare_context(app_spec, deploy_dir)
    if deploy:
        load_deploy_files(context)
    selected = [check for check in REGISTRY.values() if deploy or not check.deploy]

    async def run() -> list[Finding]:
        with working_directory(context.root), production_environment(context):
            load_app_into(context, spec)
            return [finding for check in selected for finding in check.run(context)]

    findings = asyncio.run(run())
    secrets = context.secrets()
    return Report([redact_finding(f, secrets) for f in findings], len(selected), deploy)


def redact(text: str, secrets: list[str]) -> str:
    """Replace every secret value in `text` (a last line of defence: messages never quote secrets)."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def redact_finding(finding: Finding, secrets: list[str]) -> Finding:
    """The finding with secrets removed from its message and hint."""
    return Finding(finding.id, finding.level, redact(finding.message, secrets), redact(finding.hint, secrets))


def report_json(report: Report) -> str:
    """The report for scripts."""
    findings = [{"id": f.id, "level": f.level.label, "message": f.message, "hint": f.hint} for f in report.findings]
    return json.dumps({"deploy": report.deploy, "checks_run": report.checks_run, "findings": findings}, indent=2)


def report_text(report: Report, styled: bool = False) -> str:
    """Findings grouped by level, errors first, each with its hint."""
    lines = [summary_line(report)]
    colours = {Level.ERROR: "red", Level.WARNING: "yellow", Level.INFO: "cyan"}
    for level in sorted(Level, reverse=True):
        group = [f for f in report.findings if f.level == level]
        if group:
            lines.append(
                style(f"{level.name}S:", sys.stdout, fg=colours[level], bold=True) if styled else f"{level.name}S:"
            )
            lines += [f"  {f.id}: {f.message}\n      hint: {f.hint}" for f in group]
    return "\n".join(lines)


def summary_line(report: Report) -> str:
    """`tkit check: 2 errors, 1 warning (30 checks run, with --deploy)`."""
    counts = {level: sum(f.level == level for f in report.findings) for level in Level}
    parts = [
        f"{counts[level]} {level.label}{'' if counts[level] == 1 else 's'}"
        for level in sorted(Level, reverse=True)
        if counts[level]
    ]
    scope = f"{report.checks_run} checks run{', with --deploy' if report.deploy else ''}"
    return f"tkit check: {', '.join(parts) or 'no issues'} ({scope})"


def enforce(report: Report, fail_level: Level) -> None:
    """Raise ChecksFailed when a finding is at or above `fail_level`."""
    failing = [f for f in report.findings if f.level >= fail_level]
    if failing:
        ids = ", ".join(dict.fromkeys(f.id for f in failing))
        raise ChecksFailed(f"{len(failing)} issue(s) at level {fail_level.label} or above: {ids}")
