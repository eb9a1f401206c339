"""`nginx -t` (inside Debian's own nginx.conf, as installed) and gixy accept the files as rendered."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support import require_tool

from deploy.harness import self_signed_certificate
from deploy.projects import make_project
from tornado_kit.deploy.configs import render_deploy
from tornado_kit.deploy.options import RawOptions, build_options

pytestmark = pytest.mark.slow

DEBIAN_NGINX_CONF = Path("/etc/nginx/nginx.conf")


def rendered_nginx(tmp_path: Path, **raw: object) -> Path:
    project = make_project(tmp_path / "site")
    options = build_options(RawOptions(app_dir=project, workers="2", server_name="example.com", **raw))  # type: ignore[arg-type]
    path = tmp_path / "mysite.conf"
    path.write_text(render_deploy(options)["nginx/mysite.conf"])
    return path


def debian_nginx_test(tmp_path: Path, drop_in: Path) -> subprocess.CompletedProcess[str]:
    """Run `nginx -t` on Debian's nginx.conf with conf.d holding only the drop-in and no default site."""
    nginx = require_tool("nginx")
    if not DEBIAN_NGINX_CONF.is_file():
        pytest.fail("nginx is not installed (apt-get install nginx)")
    text = DEBIAN_NGINX_CONF.read_text()
    assert "include /etc/nginx/conf.d/*.conf;" in text
    text = text.replace("include /etc/nginx/conf.d/*.conf;", f"include {drop_in};")
    text = text.replace("include /etc/nginx/sites-enabled/*;", "")
    main = tmp_path / "nginx.conf"
    main.write_text(text)
    return subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(main)], check=False, capture_output=True, text=True, timeout=60
    )


def gixy(path: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [require_tool("gixy"), "-f", "json", str(path)], check=False, capture_output=True, text=True, timeout=120
    )
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def gixy_in_http_context(drop_in: Path) -> list[dict[str, object]]:
    """gixy on a main config that includes the drop-in inside `http {}`, where it is installed."""
    main = drop_in.with_name("gixy-main.conf")
    main.write_text(
        f"worker_rlimit_nofile 4096;\nevents {{ worker_connections 1024; }}\nhttp {{\ninclude {drop_in};\n}}\n"
    )
    return gixy(main)


def test_nginx_accepts_the_plain_http_file(tmp_path: Path) -> None:
    result = debian_nginx_test(tmp_path, rendered_nginx(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


@pytest.mark.parametrize("ipv6", [False, True])
def test_nginx_accepts_the_tls_file(tmp_path: Path, ipv6: bool) -> None:
    cert, key = self_signed_certificate(tmp_path, "example.com")
    result = debian_nginx_test(tmp_path, rendered_nginx(tmp_path, tls_cert=cert, tls_key=key, ipv6=ipv6))
    assert result.returncode == 0, result.stderr


def test_nginx_check_catches_a_broken_file(tmp_path: Path) -> None:
    drop_in = rendered_nginx(tmp_path)
    drop_in.write_text(drop_in.read_text().replace("listen 80;", "listen 80;\n    http2 on;", 1))
    assert debian_nginx_test(tmp_path, drop_in).returncode != 0


@pytest.mark.parametrize("tls", [False, True])
def test_gixy_reports_no_issue(tmp_path: Path, tls: bool) -> None:
    extra = dict(zip(("tls_cert", "tls_key"), self_signed_certificate(tmp_path, "example.com"))) if tls else {}
    drop_in = rendered_nginx(tmp_path, **extra)
    assert gixy(drop_in) == []
    assert gixy_in_http_context(drop_in) == []


@pytest.mark.parametrize(
    ("original", "broken", "plugin"),
    [
        ("proxy_set_header Host $host;", "proxy_set_header Host $http_host;", "host_spoofing"),
        ("location /static/ {", "location /static {", "alias_traversal"),
    ],
)
def test_gixy_catches_the_mistakes_we_avoid(tmp_path: Path, original: str, broken: str, plugin: str) -> None:
    path = rendered_nginx(tmp_path)
    text = path.read_text()
    assert original in text
    path.write_text(text.replace(original, broken))
    assert plugin in {issue["plugin"] for issue in gixy(path)}


@pytest.mark.parametrize("tls", [False, True])
def test_tkit_check_deploy_finds_nothing_to_warn_about(tmp_path: Path, tls: bool) -> None:
    """The deploy checks of `tkit check --deploy` agree with what deploy-config renders."""
    import sys

    from tornado_kit.new import new_project

    project = tmp_path / "mysite"
    new_project("mysite", project)
    tls_args = (
        [f"--tls-{kind}={path}" for kind, path in zip(("cert", "key"), self_signed_certificate(tmp_path, "localhost"))]
        if tls
        else []
    )
    tkit = [sys.executable, "-m", "tornado_kit"]
    subprocess.run(
        [*tkit, "deploy-config", "--workers", "2", *tls_args], cwd=project, check=True, capture_output=True, timeout=60
    )
    # as a deploy does before it starts the workers (unapplied migrations are database.E002)
    subprocess.run(
        [sys.executable, "-m", "mysite", "migrate"], cwd=project, check=True, capture_output=True, timeout=120
    )
    result = subprocess.run(
        [*tkit, "check", "--deploy", "--fail-level", "warning"],
        cwd=project,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
