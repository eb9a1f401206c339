"""The rendered text: the directives an ops engineer checks, read structurally, plus golden files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deploy.nginxparse import Directive, parse
from tornado_kit.deploy.configs import render_deploy
from tornado_kit.deploy.cpus import CpuCount
from tornado_kit.deploy.options import DeployOptions
from tornado_kit.project import Project
from tornado_kit.settings import DeploySettings

GOLDEN = Path(__file__).parent / "golden"
PROXY_HEADERS = {
    "Host": "$host",
    "X-Real-IP": "$remote_addr",
    "X-Forwarded-For": "$remote_addr",
    "X-Scheme": "$scheme",
    "X-Forwarded-Proto": "$scheme",
}


def options(root: str = "/srv/mysite", **changes: object) -> DeployOptions:
    """Options as build_options would make them, with fixed paths so the output is reproducible."""
    project = Project(
        Path(root), "mysite", "mysite", "mysite.app:make_app", ("/ws/",), Path(root) / "mysite/static", "/static/"
    )
    values: dict[str, object] = {
        "project": project,
        "app": DeploySettings(2_000_000, 10.0, None, ("example.com",)),
        "python": Path(root) / ".venv/bin/python",
        "workers": CpuCount(2, "test"),
        "base_port": 8001,
        "bind": "127.0.0.1",
        "hosts": (),
        "server_names": ("example.com", "www.example.com"),
        "listen_address": None,
        "http_port": 80,
        "https_port": 443,
        "tls_cert": None,
        "tls_key": None,
        "user": "www-data",
        "log_dir": Path("/var/log/supervisor"),
        "out": Path(root) / "deploy",
    }
    values.update(changes)
    return DeployOptions(**values)  # type: ignore[arg-type]


def tls_options() -> DeployOptions:
    return options(tls_cert=Path("/etc/ssl/example.pem"), tls_key=Path("/etc/ssl/example.key"))


def servers(config: Directive) -> list[Directive]:
    return [d for d in config.children or [] if d.name == "server"]


def app_server(config: Directive) -> Directive:
    return next(s for s in servers(config) if s.find("location"))


def walk(node: Directive) -> list[Directive]:
    found = []
    for child in node.children or []:
        found += [child, *walk(child)]
    return found


@pytest.mark.parametrize("name", ["plain", "tls", "hosts"])
def test_golden_files(name: str) -> None:
    rendered = render_deploy(
        {"plain": options(), "tls": tls_options(), "hosts": options(hosts=("10.0.0.11", "10.0.0.12"))}[name]
    )
    for relative, text in rendered.items():
        golden = GOLDEN / name / relative
        if os.environ.get("UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_text(text)
        assert text == golden.read_text(), f"{golden} differs; review, then rerun with UPDATE_GOLDEN=1"


def test_upstream_has_every_worker_and_keepalive() -> None:
    config = parse(render_deploy(options())["nginx/mysite.conf"])
    upstream = config.find("upstream")[0]
    assert upstream.args == ["mysite_app"]
    assert upstream.values("server") == [["127.0.0.1:8001"], ["127.0.0.1:8002"]]
    assert upstream.values("keepalive") and not upstream.find("ip_hash")


def test_hosts_give_one_upstream_across_every_host_and_worker() -> None:
    config = parse(render_deploy(options(hosts=("10.0.0.11", "10.0.0.12")))["nginx/mysite.conf"])
    upstreams = config.find("upstream")
    assert len(upstreams) == 1
    assert [a[0] for a in upstreams[0].values("server")] == [
        "10.0.0.11:8001",
        "10.0.0.11:8002",
        "10.0.0.12:8001",
        "10.0.0.12:8002",
    ]


@pytest.mark.parametrize("make", [options, tls_options])
def test_proxy_headers_are_set_once_and_reach_every_proxied_location(make: object) -> None:
    server = app_server(parse(render_deploy(make())["nginx/mysite.conf"]))  # type: ignore[operator]
    headers = {args[0]: args[1] for args in server.values("proxy_set_header")}
    assert {k: headers[k] for k in PROXY_HEADERS} == PROXY_HEADERS
    assert server.values("proxy_http_version") == [["1.1"]]
    assert server.values("proxy_next_upstream") == [["error"]]
    proxied = [loc for loc in server.find("location") if loc.find("proxy_pass")]
    assert {tuple(loc.args) for loc in proxied} == {("/ws/",), ("/",)}
    for location in server.find("location"):
        assert not location.find("proxy_set_header"), f"{location.args} would drop the inherited headers"


def test_upgrade_only_on_websocket_paths() -> None:
    config = parse(render_deploy(options())["nginx/mysite.conf"])
    server = app_server(config)
    headers = {args[0]: args[1] for args in server.values("proxy_set_header")}
    assert headers["Upgrade"] == "$mysite_upgrade" and headers["Connection"] == "$mysite_connection"
    assert server.values("set") == [["$mysite_upgrade", ""]]
    upgrading = [
        loc.args for loc in server.find("location") if ["$mysite_upgrade", "$http_upgrade"] in loc.values("set")
    ]
    assert upgrading == [["/ws/"]]
    ws = next(loc for loc in server.find("location") if loc.args == ["/ws/"])
    assert ws.values("proxy_read_timeout") == [["1h"]]
    connection_map = next(m for m in config.find("map") if m.args == ["$mysite_upgrade", "$mysite_connection"])
    assert connection_map.values("default") == [["upgrade"]] and ["", ""] in [
        [c.name, *c.args] for c in connection_map.children or []
    ]


def test_static_served_by_nginx_with_long_cache_for_versioned_urls_and_no_if() -> None:
    text = render_deploy(options())["nginx/mysite.conf"]
    config = parse(text)
    static = next(loc for loc in app_server(config).find("location") if loc.args == ["/static/"])
    assert static.values("alias") == [["/srv/mysite/mysite/static/"]]
    assert not static.find("proxy_pass")
    assert static.values("expires") == [["$mysite_static_expires"]]
    expires_map = next(m for m in config.find("map") if m.args == ["$arg_v", "$mysite_static_expires"])
    assert expires_map.values("default") == [["1y"]]
    assert not [d for d in walk(config) if d.name == "if"]


def test_hardening_directives() -> None:
    text = render_deploy(options())["nginx/mysite.conf"]
    server = app_server(parse(text))
    assert server.values("client_max_body_size") == [["2000000"]]
    assert server.values("server_tokens") == [["off"]]
    assert server.values("gzip") == [["on"]] and server.values("gzip_proxied") == [["any"]]
    assert "application/javascript" in server.values("gzip_types")[0]
    assert ["~", "/\\.(?!well-known/)"] in [
        loc.args for loc in server.find("location") if loc.values("deny") == [["all"]]
    ]
    assert "$http_host" not in text and "proxy_pass_header" not in text


def test_catch_all_default_server_closes_unknown_hosts() -> None:
    config = parse(render_deploy(options())["nginx/mysite.conf"])
    default = [s for s in servers(config) if ["80", "default_server"] in s.values("listen")]
    assert len(default) == 1
    assert default[0].values("return") == [["444"]]
    assert app_server(config).values("server_name") == [["example.com", "www.example.com"]]


def test_tls_variant_redirects_http_and_sends_hsts() -> None:
    config = parse(render_deploy(tls_options())["nginx/mysite.conf"])
    server = app_server(config)
    assert server.values("listen") == [["443", "ssl", "http2"]]
    assert server.values("ssl_protocols") == [["TLSv1.2", "TLSv1.3"]]
    assert server.values("ssl_certificate") == [["/etc/ssl/example.pem"]]
    assert ["Strict-Transport-Security", "max-age=63072000; includeSubDomains", "always"] in server.values("add_header")
    redirect = next(s for s in servers(config) if s.values("listen") == [["80"]])
    assert redirect.values("return") == [["301", "https://$host$request_uri"]]
    assert "http2 on" not in render_deploy(tls_options())["nginx/mysite.conf"]  # nginx 1.22 rejects it


def test_supervisor_program() -> None:
    text = render_deploy(options())["supervisor/mysite.conf"]
    assert "[program:mysite]" in text
    assert (
        "command=/srv/mysite/.venv/bin/python -m mysite --port %(process_num)d --address 127.0.0.1 --xheaders\n" in text
    )
    for line in (
        "numprocs=2",
        "numprocs_start=8001",
        "directory=/srv/mysite",
        "user=www-data",
        "autorestart=true",
        "stopsignal=TERM",
        "stopwaitsecs=15",
        "stopasgroup=true",
        "killasgroup=true",
        "stdout_logfile=/var/log/supervisor/mysite-%(process_num)d.log",
    ):
        assert f"\n{line}\n" in text
    assert "COOKIE_SECRET=" not in text and "HTTPS" not in text
    assert "sh -c" not in text


def test_supervisor_waits_longer_than_the_app_shutdown_timeout() -> None:
    text = render_deploy(options(app=DeploySettings(1, 42.5, None, ())))["supervisor/mysite.conf"]
    assert "\nstopwaitsecs=48\n" in text


def test_tls_tells_the_app_it_runs_behind_https() -> None:
    assert '\nenvironment=PYTHONUNBUFFERED="1",HTTPS="1"\n' in render_deploy(tls_options())["supervisor/mysite.conf"]


def test_percent_in_paths_is_escaped_for_supervisor() -> None:
    text = render_deploy(options(root="/srv/100%site", log_dir=Path("/var/log/50%")))["supervisor/mysite.conf"]
    assert "command=/srv/100%%site/.venv/bin/python -m mysite --port %(process_num)d" in text
    assert "\ndirectory=/srv/100%%site\n" in text
    assert "\nstdout_logfile=/var/log/50%%/mysite-%(process_num)d.log\n" in text


def test_paths_with_spaces_are_quoted() -> None:
    rendered = render_deploy(options(root="/srv/my site"))
    assert "command='/srv/my site/.venv/bin/python' -m mysite" in rendered["supervisor/mysite.conf"]
    static = next(
        loc for loc in app_server(parse(rendered["nginx/mysite.conf"])).find("location") if loc.args == ["/static/"]
    )
    assert static.values("alias") == [["/srv/my site/mysite/static/"]]


def test_a_non_default_port_is_kept_in_the_host_header() -> None:
    server = app_server(parse(render_deploy(options(http_port=8080, listen_address="127.0.0.1"))["nginx/mysite.conf"]))
    assert ["Host", "$host:$server_port"] in server.values("proxy_set_header")
    assert server.values("listen") == [["127.0.0.1:8080"]]


def test_ipv6_adds_a_listen_beside_each_ipv4_one() -> None:
    config = parse(
        render_deploy(options(ipv6=True, tls_cert=Path("/c.pem"), tls_key=Path("/k.pem")))["nginx/mysite.conf"]
    )
    listens = [args for server in servers(config) for args in server.values("listen")]
    assert ["[::]:80", "default_server"] in listens and ["80", "default_server"] in listens
    assert ["[::]:443", "ssl", "http2"] in listens and ["[::]:443", "ssl", "default_server"] in listens
    assert not [
        a
        for a in (
            args for s in servers(parse(render_deploy(options())["nginx/mysite.conf"])) for args in s.values("listen")
        )
        if "[::]" in a[0]
    ]


def test_a_project_without_websockets_gets_no_upgrade_location() -> None:
    project = Project(
        Path("/srv/mysite"),
        "mysite",
        "mysite",
        "mysite.app:make_app",
        (),
        Path("/srv/mysite/mysite/static"),
        "/static/",
    )
    text = render_deploy(options(project=project))["nginx/mysite.conf"]
    server = app_server(parse(text))
    assert [loc.args for loc in server.find("location") if loc.find("proxy_pass")] == [["/"]]
    assert not [d for d in walk(parse(text)) if "$http_upgrade" in d.args]
