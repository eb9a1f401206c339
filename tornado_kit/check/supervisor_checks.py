"""`--deploy` checks of the supervisor programs, and of how they line up with nginx and the app."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext
from tornado_kit.check.nginx_checks import upstream_targets
from tornado_kit.check.supervisor import Process, comment_cuts

SUPERVISOR_DEFAULT_STOPWAITSECS = 10.0
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE|API_?KEY|CREDENTIAL", re.IGNORECASE)
DEV_FLAGS = ("--reload", "--debug", "--autoreload")
TRUE = ("1", "true", "yes", "on")
WILDCARDS = ("0.0.0.0", "::", "[::]", "*", "")


def describe(process: Process) -> str:
    """`file [program:name]` for messages."""
    return f"{process.path.name} [program:{process.program}]"


def unique_programs(context: CheckContext) -> list[Process]:
    """One process per program section (numprocs copies share their options)."""
    return list({(p.path, p.program): p for p in context.supervisor}.values())


@register(
    "deploy.W003",
    Level.WARNING,
    "Run `tkit deploy-config` to write deploy/nginx and deploy/supervisor, or pass --deploy-dir.",
    deploy=True,
)
def deploy_files_present(context: CheckContext) -> Iterator[str]:
    """Without the files, none of the nginx/supervisor checks can run."""
    where = context.deploy_dir
    if where is None:
        return
    if not any((where / "nginx").glob("*.conf")):
        yield f"no nginx config found in {where}/nginx/*.conf"
    if not any((where / "supervisor").glob("*.conf")):
        yield f"no supervisor config found in {where}/supervisor/*.conf"


@register(
    "deploy.E004",
    Level.ERROR,
    "Fix the syntax at the place shown (nginx -t and supervisord would refuse it too).",
    deploy=True,
)
def deploy_files_parse(context: CheckContext) -> Iterator[str]:
    """A deploy file that does not parse is not checked at all."""
    yield from context.parse_errors


@register("supervisor.E001", Level.ERROR, "Add user=<an unprivileged account that owns the project>.", deploy=True)
def not_root(context: CheckContext) -> Iterator[str]:
    """supervisord runs as root; a program without `user=` runs the web app as root too."""
    for process in unique_programs(context):
        user = process.options.get("user", "").strip()
        if not user or user in ("root", "0"):
            yield f"{describe(process)} runs as {'root' if user else 'root (no user= given)'}"


@register(
    "supervisor.E006",
    Level.ERROR,
    "Move the project, venv or log folder to a path without ' #' (supervisor reads the rest as a comment).",
    deploy=True,
)
def no_path_cut_by_comment(context: CheckContext) -> Iterator[str]:
    """supervisor ends a value at whitespace + '#': the worker would start in, or run, the wrong path."""
    for path in sorted({process.path for process in context.supervisor}):
        yield from comment_cuts(path)


@register("supervisor.E002", Level.ERROR, "Add stopasgroup=true and killasgroup=true.", deploy=True)
def stops_as_group(context: CheckContext) -> Iterator[str]:
    """Without them a stop or restart can orphan children that keep the port."""
    for process in unique_programs(context):
        missing = [key for key in ("stopasgroup", "killasgroup") if process.options.get(key, "").lower() not in TRUE]
        if missing:
            yield f"{describe(process)} lacks {' and '.join(f'{key}=true' for key in missing)}"


def shutdown_timeout(context: CheckContext, process: Process) -> float:
    """The app's SHUTDOWN_TIMEOUT as this process sees it (its environment, else .env, else 10)."""
    raw = process.environment.get("SHUTDOWN_TIMEOUT") or context.env.get("SHUTDOWN_TIMEOUT") or "10"
    try:
        return float(raw)
    except ValueError:
        return 10.0


@register("supervisor.E003", Level.ERROR, "Set stopwaitsecs a few seconds above SHUTDOWN_TIMEOUT.", deploy=True)
def stop_waits_for_shutdown(context: CheckContext) -> Iterator[str]:
    """supervisord SIGKILLs after stopwaitsecs: in-flight requests are cut if that comes first."""
    for process in unique_programs(context):
        raw = process.options.get("stopwaitsecs", str(SUPERVISOR_DEFAULT_STOPWAITSECS))
        try:
            wait = float(raw)
        except ValueError:
            yield f"{describe(process)}: stopwaitsecs={raw} is not a number"
            continue
        timeout = shutdown_timeout(context, process)
        if wait <= timeout:
            yield f"{describe(process)}: stopwaitsecs={raw} is not longer than SHUTDOWN_TIMEOUT={timeout:g}"


@register(
    "supervisor.E004",
    Level.ERROR,
    "Run `python -m <package>` without --reload/--debug and without DEBUG=1 in production.",
    deploy=True,
)
def no_dev_mode(context: CheckContext) -> Iterator[str]:
    """A reloader or debug mode under supervisor: tracebacks to clients, restarts on file changes."""
    for process in unique_programs(context):
        argv = process.argv
        flags = [word for word in argv if word.split("=", 1)[0] in DEV_FLAGS]
        if "serve" in argv and any(word.endswith("tkit") for word in argv):
            flags.append("tkit serve")
        if process.environment.get("DEBUG", "").strip().lower() in TRUE:
            flags.append("DEBUG=1")
        if flags:
            yield f"{describe(process)} runs with {', '.join(flags)}"


@register(
    "supervisor.E005",
    Level.ERROR,
    "Keep secrets in the project's .env (mode 0600), "
    "not in supervisor's config (world-readable, shown by supervisorctl).",
    deploy=True,
)
def no_secret_in_environment(context: CheckContext) -> Iterator[str]:
    """supervisor configs are readable by many and copied around; the value is never shown here."""
    known = set(context.secrets())
    for process in unique_programs(context):
        for key, value in process.environment.items():
            if value and (SECRET_NAME.search(key) or value in known):
                yield f"{describe(process)} has a secret in environment= ({key}; value not shown)"


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1 or localhost."""
    if address.strip("[]") == "localhost":
        return True
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_address(context: CheckContext, process: Process) -> str:
    """The address a worker binds: --address, else ADDRESS (its environment, then .env), else loopback."""
    return (
        process.option_value("--address")
        or process.environment.get("ADDRESS")
        or context.env.get("ADDRESS")
        or "127.0.0.1"
    )


def xheaders_binds(context: CheckContext, private: bool) -> Iterator[str]:
    """Programs trusting proxy headers on a non-loopback address, private or public as asked."""
    for process in unique_programs(context):
        address = bind_address(context, process)
        if "--xheaders" in process.argv and not is_loopback(address) and is_private(address) == private:
            yield f"{describe(process)} uses --xheaders while listening on {address}"


def is_private(address: str) -> bool:
    """A specific private-network address (not a wildcard such as 0.0.0.0, not a public one)."""
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return False
    return parsed.is_private and not parsed.is_unspecified


@register(
    "deploy.E005",
    Level.ERROR,
    "Bind to 127.0.0.1 behind nginx (or a private address that only nginx can reach), or drop --xheaders.",
    deploy=True,
)
def xheaders_not_public(context: CheckContext) -> Iterator[str]:
    """xheaders trusts X-Real-IP/X-Scheme; on a public or wildcard bind anyone can set them."""
    yield from xheaders_binds(context, private=False)


@register(
    "deploy.W007",
    Level.WARNING,
    "Firewall the worker ports so only the nginx host reaches them (Tornado trusts their X-Real-IP/X-Scheme).",
    deploy=True,
)
def xheaders_on_private_network(context: CheckContext) -> Iterator[str]:
    """Several app hosts must bind a private address; then only a firewall keeps spoofed headers out."""
    yield from xheaders_binds(context, private=True)


def same_host(nginx_host: str, worker_address: str) -> bool:
    """True when nginx's target host reaches a worker bound to `worker_address`."""
    if worker_address in WILDCARDS:
        return True
    return nginx_host == worker_address or (is_loopback(nginx_host) and is_loopback(worker_address))


@register(
    "deploy.E006",
    Level.ERROR,
    "Re-run `tkit deploy-config` so nginx's upstream and supervisor's --port values come from one place.",
    deploy=True,
)
def ports_agree(context: CheckContext) -> Iterator[str]:
    """A port nginx proxies to with no worker gives 502s; a worker nginx never uses is wasted."""
    if not context.nginx or not context.supervisor:
        return
    targets = {key: where for nginx in context.nginx for key, where in upstream_targets(nginx).items()}
    workers = {
        (bind_address(context, process), int(text)): describe(process)
        for process in context.supervisor
        if (text := process.option_value("--port") or "").isdecimal()
    }
    for (host, port), where in sorted(targets.items()):
        if not any(number == port and same_host(host, address) for address, number in workers):
            yield f"{where}: nginx proxies to {host}:{port} but no supervisor program listens there"
    for (address, port), where in sorted(workers.items()):
        if not any(number == port and same_host(host, address) for host, number in targets):
            yield f"{where}: a worker listens on {address}:{port} but nginx never proxies to it"
