"""DeployOptions -> {relative path: text} for nginx, supervisor and the README: the values each template of
templates/deploy/ is rendered with (rendering itself is tornado_kit/render.py's); pure, no I/O but templates."""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from tornado_kit.deploy.options import DeployOptions
from tornado_kit.render import environment, render_template
from tornado_kit.templates import templates_root


@dataclass(frozen=True)
class Step:
    """One install step of the README: what it is for, and the exact shell commands."""

    title: str
    commands: tuple[str, ...]


def render_deploy(options: DeployOptions) -> dict[str, str]:
    """Every file `tkit deploy-config` writes, keyed by its path relative to --out."""
    name = options.project.package
    context = _common_context(options)
    files = {f"nginx/{name}.conf": _render("nginx.conf.jinja", context, listen=_listen_function(options))}
    for host, filename in supervisor_files(options).items():
        files[filename] = _render("supervisor.conf.jinja", context, **_supervisor_context(options, host))
    files["README.md"] = _render("README.md.jinja", context, steps=install_steps(options))
    return files


def supervisor_files(options: DeployOptions) -> dict[str | None, str]:
    """The supervisor file of each host (key None: the one host, bound to --bind)."""
    name = options.project.package
    if not options.hosts:
        return {None: f"supervisor/{name}.conf"}
    return {host: f"supervisor/{name}-{host}.conf" for host in options.hosts}


def stopwaitsecs(options: DeployOptions) -> int:
    """How long supervisor waits for a stopping worker: the app's shutdown timeout plus a margin."""
    return math.ceil(options.app.shutdown_timeout) + 5


def _common_context(options: DeployOptions) -> dict[str, Any]:
    hosts = options.hosts or (options.bind,)
    return {
        "name": options.project.package,
        "upstream_servers": [f"{host}:{port}" for host in hosts for port in options.ports],
        "server_names": options.server_names,
        "http_port": options.http_port,
        "https_port": options.https_port,
        "public_port": options.https_port if options.tls else options.http_port,
        "https_port_suffix": "" if options.https_port == 443 else f":{options.https_port}",
        "tls": options.tls,
        "ipv6": options.ipv6,
        "tls_cert": str(options.tls_cert),
        "tls_key": str(options.tls_key),
        "max_body_size": options.app.max_body_size,
        "static_url": options.project.static_url,
        "static_dir": str(_static_dir(options)).rstrip("/"),
        "websocket_paths": options.project.websocket_paths,
        "workers": options.workers.count,
        "ports": options.ports,
        "hosts": options.hosts,
        "total": options.workers.count * max(1, len(options.hosts)),
        "multi": options.workers.count * max(1, len(options.hosts)) > 1,
        "user": options.user,
        "app_dir": str(options.project.root),
        "shutdown_timeout": f"{options.app.shutdown_timeout:g}",
        "stopwaitsecs": stopwaitsecs(options),
    }


def _static_dir(options: DeployOptions) -> Path:
    return options.project.static_dir or options.project.root / options.project.package / "static"


def _supervisor_context(options: DeployOptions, host: str | None) -> dict[str, Any]:
    """Values for one host's supervisor file, with supervisor's `%` expansion escaped in every path."""
    address = host or options.bind
    python = shlex.quote(str(options.python)).replace("%", "%%")
    command = f"{python} -m {options.project.package} --port %(process_num)d --address {address} --xheaders"
    return {
        "host": host,
        "command": command,
        "app_dir_text": str(options.project.root),
        "app_dir": str(options.project.root).replace("%", "%%"),
        "log_dir": str(options.log_dir).replace("%", "%%"),
    }


def _listen_function(options: DeployOptions) -> Any:
    def listen(port: int) -> str:
        return f"{options.listen_address}:{port}" if options.listen_address else str(port)

    return listen


def install_steps(options: DeployOptions) -> list[Step]:
    """The exact commands that install the rendered files on a Debian/Ubuntu host."""
    name, q = options.project.package, shlex.quote
    root, user = options.project.root, options.user
    steps = [
        Step(
            "Let the app user read the settings and write the database folder (on every app host):",
            (f"sudo chown {q(user)} {q(str(root / '.env'))}", f"sudo install -d -o {q(user)} {q(str(root / 'var'))}"),
        )
    ]
    if (root / "alembic.ini").is_file():
        python = q(str(options.python))
        steps.append(
            Step(
                "Once per deploy, before starting or updating the workers (from one host): apply the migrations",
                (f"cd {q(str(root))} && sudo -u {q(user)} {python} -m {name} migrate",),
            )
        )
    for host, filename in supervisor_files(options).items():
        where = f"On {host}, start" if host else "Start"
        steps.append(
            Step(
                f"{where} the workers with supervisor:",
                (
                    f"sudo cp {q(str(options.out / filename))} /etc/supervisor/conf.d/{name}.conf",
                    "sudo supervisorctl reread && sudo supervisorctl update",
                    f"sudo supervisorctl status '{name}:*'",
                ),
            )
        )
    steps.append(
        Step(
            "Put nginx in front (its catch-all server replaces Debian's default site):",
            (
                f"sudo cp {q(str(options.out / 'nginx' / (name + '.conf')))} /etc/nginx/conf.d/{name}.conf",
                "sudo rm -f /etc/nginx/sites-enabled/default",
                "sudo nginx -t && sudo systemctl reload nginx",
            ),
        )
    )
    return steps


def _render(template: str, context: dict[str, Any], **extra: Any) -> str:
    env = environment(jinja2.FileSystemLoader(str(templates_root() / "deploy")))
    return render_template(env, template, {**context, **extra})
