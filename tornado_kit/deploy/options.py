"""Validate every `tkit deploy-config` option once, into one frozen DeployOptions the renderer trusts.

Anything that ends up in an nginx or supervisor file is checked against a strict pattern here, so that
no value can inject a directive (`;`, `{`, quotes, newlines) or a supervisor `%` expansion.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tornado_kit.deploy.cpus import CpuCount, usable_cpus
from tornado_kit.errors import BadInput, ProjectNotFound
from tornado_kit.project import Project, find_project, load_project
from tornado_kit.settings import DeploySettings, load_deploy_settings

HOSTNAME = re.compile(
    r"(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
USERNAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
URL_PREFIX = re.compile(r"/(?:[A-Za-z0-9._~-]+/)*")
UNSAFE_PATH_CHARS = set("\"'\\;{}$`")
# supervisor's ini parser starts an inline comment at a '#' that follows whitespace (";" is refused anyway).
SUPERVISOR_COMMENT = re.compile(r"\s#")
MAX_WORKERS = 256


@dataclass(frozen=True)
class RawOptions:
    """The options as typed by the user (None: not given, use the default)."""

    workers: str = "auto"
    base_port: int = 8001
    bind: str | None = None
    server_name: str | None = None
    listen: str | None = None
    https_port: int = 443
    out: Path | None = None
    user: str = "www-data"
    app_dir: Path | None = None
    python: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    hosts: str | None = None
    log_dir: Path = Path("/var/log/supervisor")
    ipv6: bool = False


@dataclass(frozen=True)
class DeployOptions:
    """Everything the renderer needs, already valid."""

    project: Project
    app: DeploySettings
    python: Path
    workers: CpuCount
    base_port: int
    bind: str
    hosts: tuple[str, ...]
    server_names: tuple[str, ...]
    listen_address: str | None
    http_port: int
    https_port: int
    tls_cert: Path | None
    tls_key: Path | None
    user: str
    log_dir: Path
    out: Path
    ipv6: bool = False
    warnings: tuple[str, ...] = field(default=())

    @property
    def ports(self) -> list[int]:
        """The port of each worker on each host."""
        return list(range(self.base_port, self.base_port + self.workers.count))

    @property
    def tls(self) -> bool:
        """True when nginx terminates TLS (and tells the app it runs behind https)."""
        return self.tls_cert is not None


def build_options(raw: RawOptions, cpu_counter: Callable[[], CpuCount] = usable_cpus) -> DeployOptions:
    """Check every option and fill in the defaults; raise BadInput (exit 2) on the first bad one."""
    project = _project(raw.app_dir)
    workers = _workers(raw.workers, cpu_counter)
    _check_port("--base-port", raw.base_port)
    _check_port("--base-port plus --workers", raw.base_port + workers.count - 1)
    _check_port("--https-port", raw.https_port)
    listen_address, http_port = _listen(raw.listen, 80)
    if raw.ipv6 and listen_address:
        raise BadInput("--ipv6 listens on every IPv6 address: give --listen a port only, without an address")
    hosts = _names("--hosts", raw.hosts) if raw.hosts else ()
    if any("*" in host for host in hosts):
        raise BadInput("--hosts takes the names or addresses of real hosts, not wildcards")
    if hosts and raw.bind:
        raise BadInput("--bind and --hosts exclude each other: with --hosts each worker binds its host's address")
    tls_cert, tls_key = _tls(raw.tls_cert, raw.tls_key)
    _check_no_clash(raw.base_port, workers.count, [http_port, *([raw.https_port] if tls_cert else [])], hosts)
    options = DeployOptions(
        project=project,
        app=load_deploy_settings(project.root),
        python=_python(raw.python, project),
        workers=workers,
        base_port=raw.base_port,
        bind=_bind(raw.bind or "127.0.0.1"),
        hosts=hosts,
        server_names=_names("--server-name", raw.server_name or "localhost"),
        listen_address=listen_address,
        http_port=http_port,
        https_port=raw.https_port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        user=_user(raw.user),
        log_dir=_path("--log-dir", raw.log_dir),
        out=(raw.out or project.root / "deploy").absolute(),
        ipv6=raw.ipv6,
    )
    _check_one_database(options)
    return _with_warnings(options)


def _check_one_database(options: DeployOptions) -> None:
    """Several hosts need one database server: a project with migrations on SQLite (its default) is refused."""
    if not options.hosts or not (options.project.root / "alembic.ini").is_file():
        return
    url = options.app.database_url or "sqlite"
    if url.split(":", 1)[0].split("+", 1)[0] == "sqlite":
        raise BadInput(
            "several hosts need one database server, but DATABASE_URL is SQLite: "
            f"set DATABASE_URL=postgresql+asyncpg://USER:PASSWORD@HOST/DBNAME in {options.project.env_file}"
        )


def _project(app_dir: Path | None) -> Project:
    """The project, with every `[tool.tkit]` value that reaches nginx or supervisor checked like an option."""
    project = find_project() if app_dir is None else _project_at(app_dir)
    where = f"[tool.tkit] in {project.root}/pyproject.toml:"
    for path in (project.static_url, *project.websocket_paths):
        if not URL_PREFIX.fullmatch(path):
            raise BadInput(f"{where} {path!r} is not a URL prefix like /static/")
    if not (project.package.isascii() and project.package.isidentifier()):
        raise BadInput(f"{where} package {project.package!r} is not a Python package name")
    _path("the project directory", project.root)
    if project.static_dir is not None:
        _path(f"{where} static-dir", project.static_dir)
    return project


def _project_at(app_dir: Path) -> Project:
    try:
        return load_project(_path("--app-dir", app_dir))
    except ProjectNotFound as exc:
        raise BadInput(f"--app-dir {app_dir} is not a tkit project: {exc.message}") from None


def _workers(text: str, cpu_counter: Callable[[], CpuCount]) -> CpuCount:
    if text.strip().lower() == "auto":
        return cpu_counter()
    try:
        count = int(text)
    except ValueError:
        raise BadInput(f"--workers must be `auto` or a whole number, not {text!r}") from None
    if not 1 <= count <= MAX_WORKERS:
        raise BadInput(f"--workers must be between 1 and {MAX_WORKERS}, not {count}")
    return CpuCount(count, f"{count} worker(s) as asked with --workers")


def _check_port(what: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise BadInput(f"{what} gives port {port}, outside 1-65535")


def _check_no_clash(base_port: int, workers: int, nginx_ports: list[int], hosts: tuple[str, ...]) -> None:
    """nginx and the workers share the host unless --hosts puts the workers elsewhere."""
    clash = [port for port in nginx_ports if base_port <= port < base_port + workers]
    if clash and not hosts:
        raise BadInput(f"nginx port {clash[0]} is also a worker port ({base_port}-{base_port + workers - 1})")


def _listen(text: str | None, default_port: int) -> tuple[str | None, int]:
    """`--listen PORT` or `--listen ADDRESS:PORT` for nginx's public server."""
    if not text:
        return None, default_port
    address, _, port_text = text.rpartition(":")
    if not (port_text.isascii() and port_text.isdigit()):
        raise BadInput(f"--listen must be PORT or IPV4-ADDRESS:PORT, not {text!r}")
    port = int(port_text)
    _check_port("--listen", port)
    return (_bind(address) if address else None), port


def _bind(text: str) -> str:
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise BadInput(f"{text!r} is not an IPv4 address") from None


def _names(option: str, text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if not HOSTNAME.fullmatch(name) or len(name) > 253:
            raise BadInput(f"{option}: {name!r} is not a host name or IPv4 address (letters, digits, '-', '.')")
    return tuple(dict.fromkeys(names))


def _user(text: str) -> str:
    if not USERNAME.fullmatch(text):
        raise BadInput(f"--user {text!r} is not a valid user name")
    if text == "root":
        raise BadInput("--user root would run the workers (and their HTTP parsing) as root: name an unprivileged user")
    return text


def _path(option: str, path: Path) -> Path:
    text = str(path)
    if any(ch in UNSAFE_PATH_CHARS or ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise BadInput(f"{option} {text!r} contains a quote, ';', '{{', '}}', '$', a backslash or a control character")
    if SUPERVISOR_COMMENT.search(text):
        raise BadInput(f"{option} {text!r} has a '#' after a space, where supervisor would cut it as a comment")
    return path.absolute()


def _python(python: Path | None, project: Project) -> Path:
    if python is not None:
        return _path("--python", python)
    venv = project.root / ".venv" / "bin" / "python"
    return _path("--python", venv if venv.exists() else Path(sys.executable))


def _tls(cert: Path | None, key: Path | None) -> tuple[Path | None, Path | None]:
    if (cert is None) != (key is None):
        raise BadInput("--tls-cert and --tls-key go together: give both or neither")
    if cert is None or key is None:
        return None, None
    return _path("--tls-cert", cert), _path("--tls-key", key)


def _with_warnings(options: DeployOptions) -> DeployOptions:
    """Add what the user should know: in-process chat fan-out across workers, hosts the app refuses."""
    warnings = []
    processes = options.workers.count * max(1, len(options.hosts))
    if processes > 1 and options.project.websocket_paths and not options.app.redis_url:
        warnings.append(
            f"{processes} workers but no REDIS_URL: chat messages only reach users on the same worker. "
            f"Set REDIS_URL=redis://HOST:6379/0 in {options.project.env_file} (and install redis>=5)"
        )
    if options.hosts:
        ports = f"{options.ports[0]}-{options.ports[-1]}"
        warnings.append(
            f"with --hosts the workers listen on {', '.join(options.hosts)} and trust proxy headers "
            f"(--xheaders): firewall ports {ports} so that only the nginx host reaches them"
        )
    refused = [n for n in options.server_names if n not in options.app.allowed_hosts]
    if refused:
        warnings.append(
            f"the app's ALLOWED_HOSTS ({','.join(options.app.allowed_hosts)}) lacks {','.join(refused)}: "
            f"add them to ALLOWED_HOSTS in {options.project.env_file}"
        )
    return dataclasses.replace(options, warnings=tuple(warnings))
