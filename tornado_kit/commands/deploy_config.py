"""`tkit deploy-config`: nginx + supervisor files for the project, one Tornado process per CPU."""

from __future__ import annotations

from pathlib import Path

import click

EXAMPLES = """
\b
Examples:
  tkit deploy-config --server-name example.com
  tkit deploy-config --workers 4 --server-name example.com --tls-cert /etc/ssl/site.pem --tls-key /etc/ssl/site.key
  tkit deploy-config --hosts 10.0.0.11,10.0.0.12 --server-name example.com --out deploy --force
"""

PathType = click.Path(path_type=Path)


@click.command("deploy-config", epilog=EXAMPLES)
@click.option(
    "--workers", default="auto", show_default=True, help="Processes per host: `auto` (usable CPUs) or a number."
)
@click.option(
    "--base-port", type=int, default=8001, show_default=True, help="Port of the first worker; the others follow."
)
@click.option("--bind", default=None, help="Address the workers bind to.  [default: 127.0.0.1]")
@click.option("--server-name", default=None, help="nginx server_name(s), comma-separated.  [default: localhost]")
@click.option("--listen", default=None, help="nginx HTTP listen port or ADDRESS:PORT.  [default: 80]")
@click.option("--https-port", type=int, default=443, show_default=True, help="nginx HTTPS port (with --tls-cert).")
@click.option("--out", type=PathType, default=None, help="Folder to write into.  [default: PROJECT/deploy]")
@click.option("--user", default="www-data", show_default=True, help="User the workers run as.")
@click.option("--app-dir", type=PathType, default=None, help="The project root.  [default: the project around the cwd]")
@click.option(
    "--python", type=PathType, default=None, help="Interpreter.  [default: PROJECT/.venv/bin/python, else this one]"
)
@click.option("--tls-cert", type=PathType, default=None, help="TLS certificate (chain) for nginx.")
@click.option("--tls-key", type=PathType, default=None, help="TLS private key for nginx.")
@click.option(
    "--hosts", default=None, help="App hosts, comma-separated: one upstream across all, one supervisor file each."
)
@click.option(
    "--log-dir", type=PathType, default=Path("/var/log/supervisor"), show_default=True, help="Worker log folder."
)
@click.option("--ipv6", is_flag=True, help="nginx also listens on IPv6 ([::]).")
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Overwrite files in --out that differ.")
def deploy_config(force: bool, dry_run: bool, **given: object) -> None:
    """Write nginx and supervisor configs (and their install steps) for this project."""
    from tornado_kit.deploy.run import deploy_config as run  # imports Jinja2 (measured 0.4 s): not for --help

    run(given, force=force, dry_run=dry_run)
