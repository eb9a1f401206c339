"""`--deploy` checks that run real tools on the rendered nginx files: `nginx -t` and gixy, when installed.

An nginx file from deploy-config is a drop-in for the http block, so it is tested inside a small main
config written under a temporary prefix (its own pid, logs and temp paths; nothing is bound).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext
from tornado_kit.check.nginx import Directive, NginxFile

TOOL_TIMEOUT = 60
CERTIFICATE_DIRECTIVES = ("ssl_certificate", "ssl_certificate_key", "ssl_trusted_certificate", "ssl_client_certificate")
MAIN_CONFIG = """\
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
worker_rlimit_nofile 1024;
events {{ worker_connections 64; }}
http {{
    {mime}
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include "{config}";
}}
"""


def wrapper_config(nginx: NginxFile, prefix: Path, config: Path) -> Path:
    """The file to test: `config` (the file or its stand-in copy) if it is a whole nginx.conf, else a wrapper."""
    if any(d.name in ("http", "events") for d in nginx.directives):
        return config
    mime = Path("/etc/nginx/mime.types")
    text = MAIN_CONFIG.format(
        prefix=prefix, config=config.resolve(), mime=f'include "{mime}";' if mime.is_file() else ""
    )
    path = prefix / "nginx.conf"
    path.write_text(text, encoding="utf-8")
    return path


def missing_certificates(nginx: NginxFile) -> list[Directive]:
    """ssl_certificate/ssl_certificate_key directives naming files that do not exist on this machine."""
    return [
        d
        for d in nginx.walk()
        if d.name in CERTIFICATE_DIRECTIVES
        and d.args
        and "$" not in d.args[0]
        and not d.args[0].startswith("data:")
        and not Path(d.args[0]).exists()
    ]


def stand_in_certificates(nginx: NginxFile, prefix: Path) -> Path:
    """A copy of the file whose missing certificate paths point at a throwaway self-signed pair
    (the real ones exist only on the server); the file itself when nothing is missing."""
    missing = missing_certificates(nginx)
    if not missing:
        return nginx.path
    cert, key = prefix / "standin.pem", prefix / "standin.key"
    run_tool(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=tkit-check",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ]
    )
    text = nginx.path.read_text(encoding="utf-8")
    for directive in missing:
        text = text.replace(directive.args[0], str(key if directive.name.endswith("_key") else cert))
    copy = prefix / nginx.path.name
    copy.write_text(text, encoding="utf-8")
    return copy


def run_tool(argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    """Run a tool with a time limit; None when it cannot be started or hangs."""
    try:
        return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=TOOL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired):
        return None


def nginx_binary() -> str | None:
    """The nginx executable (often in /usr/sbin, which is not on every user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def nginx_test_errors(nginx: NginxFile, binary: str) -> list[str]:
    """The `[emerg]` lines of `nginx -t` for this file (empty when it passes)."""
    with tempfile.TemporaryDirectory(prefix="tkit-nginx-") as prefix:
        config = wrapper_config(nginx, Path(prefix), stand_in_certificates(nginx, Path(prefix)))
        done = run_tool([binary, "-t", "-q", "-p", prefix, "-e", f"{prefix}/error.log", "-c", str(config)])
    if done is None or done.returncode == 0:
        return []
    lines = [line for line in done.stderr.splitlines() if "[emerg]" in line or "[crit]" in line]
    return [line.split("] ", 1)[-1].strip() for line in lines] or [
        done.stderr.strip().splitlines()[-1:][0] if done.stderr.strip() else "nginx -t failed"
    ]


@register("nginx.E100", Level.ERROR, "Fix what nginx reports (it would refuse to reload with this file).", deploy=True)
def nginx_accepts(context: CheckContext) -> Iterator[str]:
    """nginx's own parser is the final word on syntax and directive contexts."""
    binary = nginx_binary()
    if binary is None:
        return
    for nginx in context.nginx:
        for error in nginx_test_errors(nginx, binary):
            yield f"nginx -t on {nginx.path.name}: {error}"


@register(
    "nginx.I102",
    Level.INFO,
    "Expected on a development machine; make sure the files exist on the server before reloading nginx.",
    deploy=True,
)
def certificates_exist(context: CheckContext) -> Iterator[str]:
    """nginx -t ran with a throwaway certificate in place of these (they exist only on the server)."""
    for nginx in context.nginx:
        for directive in missing_certificates(nginx):
            yield (
                f"{nginx.where(directive)}: {directive.name} {directive.args[0]} does not exist here "
                "(nginx -t used a stand-in)"
            )


def gixy_binary() -> str | None:
    """gixy on PATH, else next to this interpreter (installed with tkit in a venv that is not activated)."""
    return shutil.which("gixy") or shutil.which("gixy", path=sysconfig.get_path("scripts"))


def gixy_findings(nginx: NginxFile, binary: str) -> list[str]:
    """gixy's findings for this file as one-line texts."""
    with tempfile.TemporaryDirectory(prefix="tkit-gixy-") as prefix:
        # The file as written: gixy judges certificate paths too, and never opens them (no stand-in needed).
        config = wrapper_config(nginx, Path(prefix), nginx.path)
        done = run_tool([binary, "-f", "json", str(config)])
    if done is None:
        return []
    try:
        report = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return [] if done.returncode == 0 else [f"gixy failed: {(done.stderr or done.stdout).strip()[:200]}"]
    return [
        f"[{item.get('plugin')}] {item.get('summary')} ({item.get('severity')})"
        for item in report
        if isinstance(item, dict)
    ]


@register(
    "nginx.W101",
    Level.WARNING,
    "See gixy's documentation for the plugin named (https://github.com/dvershinin/gixy).",
    deploy=True,
)
def gixy_clean(context: CheckContext) -> Iterator[str]:
    """gixy knows nginx security mistakes we do not check ourselves (header redefinition, SSRF, ...)."""
    binary = gixy_binary()
    if binary is None:
        return
    for nginx in context.nginx:
        for finding in gixy_findings(nginx, binary):
            yield f"gixy on {nginx.path.name}: {finding}"
