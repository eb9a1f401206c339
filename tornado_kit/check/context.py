"""Everything the checks read, gathered once: the loaded app (or why it failed), the project's settings
as the app merges them (tornado_kit/settings.py: real variables win over `.env`), and the parsed deploy files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tornado_kit.check.nginx import NginxFile, NginxSyntaxError, load_nginx
from tornado_kit.check.supervisor import Process, SupervisorSyntaxError, load_supervisor
from tornado_kit.settings import SettingsError, parse_cookie_keys, parse_flag

if TYPE_CHECKING:
    import tornado.web

    from tornado_kit.project import Project

SECRET_NAMES = ("COOKIE_SECRET",)


@dataclass
class CheckContext:
    """The inputs of every check."""

    root: Path
    project: Project | None
    app: tornado.web.Application | None = None
    load_error: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    env_file: Path | None = None
    deploy_dir: Path | None = None
    nginx: list[NginxFile] = field(default_factory=list)
    supervisor: list[Process] = field(default_factory=list)
    parse_errors: list[str] = field(default_factory=list)

    @property
    def settings(self) -> dict[str, Any]:
        """The app's settings, or empty when it did not load."""
        return dict(self.app.settings) if self.app is not None else {}

    def flag(self, name: str, default: bool = False) -> bool:
        """A 0/1 setting, as the app reads it (a value the app refuses is app.E001's finding: `default`)."""
        try:
            return parse_flag(self.env, name) if name in self.env else default
        except SettingsError:
            return default

    def cookie_keys(self) -> list[str]:
        """The keys of COOKIE_SECRET as the app splits them (the whole value if the app refuses its form)."""
        raw = self.env.get("COOKIE_SECRET", "").strip()
        if not raw:
            return []
        try:
            return list(parse_cookie_keys(raw).values())
        except SettingsError:
            return [raw]

    def secrets(self) -> list[str]:
        """Every secret value the output must never show (each key of a versioned secret too)."""
        values: list[str] = []
        for name in SECRET_NAMES:
            raw = self.env.get(name, "")
            values += [raw] + [part.split(":", 1)[-1].strip() for part in raw.split(",")]
        configured = self.settings.get("cookie_secret")
        values += [str(v) for v in configured.values()] if isinstance(configured, dict) else [str(configured or "")]
        return sorted({value for value in values if len(value) >= 4}, key=len, reverse=True)


def load_deploy_files(context: CheckContext) -> None:
    """Parse deploy/nginx/*.conf and deploy/supervisor/*.conf; syntax errors become findings."""
    if context.deploy_dir is None:
        return
    for path in sorted((context.deploy_dir / "nginx").glob("*.conf")):
        try:
            context.nginx.append(load_nginx(path))
        except NginxSyntaxError as exc:
            context.parse_errors.append(exc.message)
    for path in sorted((context.deploy_dir / "supervisor").glob("*.conf")):
        try:
            context.supervisor.extend(load_supervisor(path))
        except SupervisorSyntaxError as exc:
            context.parse_errors.append(exc.message)
