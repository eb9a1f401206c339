"""The nginx and supervisor readers on real system files and on hand-written configs with the
awkward parts real files have (quotes, regexes with braces, includes, %-expansion, numprocs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import require_tool

from tornado_kit.check.context import CheckContext
from tornado_kit.check.nginx import NginxSyntaxError, load_nginx, parse_nginx
from tornado_kit.check.nginx_checks import (
    effective_proxy_headers,
    proxy_headers_set,
    size_in_bytes,
)
from tornado_kit.check.supervisor import comment_cuts, load_supervisor, parse_environment

HAND_WRITTEN = r"""
# a site someone wrote by hand { with braces in a comment }
map $http_user_agent $is_bot {
    default 0;
    "~*(googlebot|bingbot)" 1;
}
server {
    listen 443 ssl http2;
    server_name "example.com" www.example.com;
    set $greeting 'hello; world';
    if ($request_uri ~* "^/old/(\d{2,4})/") { return 301 /new/$1; }
    location ~* \.(png|jpe?g)$ { expires 30d; }
    location /api/ {
        include proxy_params;
        proxy_pass http://127.0.0.1:9000;
    }
    location /raw/ {
        proxy_set_header Host $host;
        proxy_pass http://127.0.0.1:9000;
    }
}
"""

SUPERVISOR = """
[supervisord]
nodaemon=true

[program:web]
command = /srv/venv/bin/python -m web --port=90%(process_num)02d --address 127.0.0.1  ; inline comment
process_name = %(program_name)s-%(process_num)s
numprocs = 3
numprocs_start = 1
user = web
stopasgroup = true
environment = A="x,y",B=2,LOG="/var/log/web%%d.log"

[group:all]
programs = web
"""


def locations(directives: list, path: str) -> list:
    """Locations whose last argument is `path`."""
    return [d for top in directives for d in top.walk() if d.name == "location" and d.args[-1] == path]


def test_hand_written_nginx_config_parses_with_quotes_regexes_and_comments() -> None:
    directives = parse_nginx(HAND_WRITTEN)
    server = next(d for d in directives if d.name == "server")
    assert server.children("server_name")[0].args == ["example.com", "www.example.com"]
    assert server.children("set")[0].args == ["$greeting", "hello; world"]
    condition = server.children("if")[0]
    assert "^/old/(\\d{2,4})/" in condition.args and condition.block is not None
    assert locations(directives, r"\.(png|jpe?g)$")[0].args[0] == "~*"
    bot_rule = next(d for d in directives if d.name == "map").block[1]
    assert (bot_rule.name, bot_rule.args) == ("~*(googlebot|bingbot)", ["1"])


@pytest.mark.parametrize(
    "broken", ["server { listen 80;", "server { listen 80; }}", "server { listen 80 }", "set $a 'open;"]
)
def test_broken_nginx_syntax_is_an_error_not_a_crash(broken: str) -> None:
    with pytest.raises(NginxSyntaxError):
        parse_nginx(broken)


def test_includes_are_inlined_so_inherited_headers_count(tmp_path: Path) -> None:
    (tmp_path / "proxy_params").write_text(
        "proxy_set_header Host $host;\nproxy_set_header X-Real-IP $remote_addr;\n"
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\nproxy_set_header X-Forwarded-Proto $scheme;\n",
        encoding="utf-8",
    )
    site = tmp_path / "site.conf"
    site.write_text(HAND_WRITTEN, encoding="utf-8")
    nginx = load_nginx(site, include_dirs=())
    api = locations(nginx.directives, "/api/")[0]
    assert set(effective_proxy_headers(api)) == {"host", "x-real-ip", "x-forwarded-for", "x-forwarded-proto"}
    context = CheckContext(root=tmp_path, project=None, nginx=[nginx])
    problems = list(proxy_headers_set(context))
    assert len(problems) == 1 and "/raw/" in problems[0] and "X-Real-IP" in problems[0]


@pytest.mark.parametrize("name", ["nginx.conf", "sites-available/default", "mime.types", "proxy_params"])
def test_the_systems_own_nginx_files_parse(name: str) -> None:
    require_tool("nginx")  # .ci/run installs it: a skip would hide a parser failure on these files
    path = Path("/etc/nginx") / name
    assert list(load_nginx(path).walk())


def test_nginx_sizes() -> None:
    assert size_in_bytes("1m") == 1048576
    assert size_in_bytes("512K") == 524288
    assert size_in_bytes("1048576") == 1048576
    assert size_in_bytes("lots") is None


def test_supervisor_numprocs_expansion_escapes_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "web.conf"
    path.write_text(SUPERVISOR, encoding="utf-8")
    processes = load_supervisor(path)
    assert [p.option_value("--port") for p in processes] == ["9001", "9002", "9003"]
    assert [p.options["process_name"] for p in processes] == ["web-1", "web-2", "web-3"]
    assert processes[0].option_value("--address") == "127.0.0.1"
    assert processes[0].environment == {"A": "x,y", "B": "2", "LOG": "/var/log/web%d.log"}


def test_supervisor_environment_forms() -> None:
    assert parse_environment('KEY="a b",OTHER=c') == {"KEY": "a b", "OTHER": "c"}
    assert parse_environment("") == {}


def test_the_systems_supervisord_conf_parses() -> None:
    require_tool("supervisord")
    path = Path("/etc/supervisor/supervisord.conf")
    assert load_supervisor(path) == []


def test_tornado_below_the_security_floor_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import tornado

    from tornado_kit.check.settings_checks import tornado_recent

    context = CheckContext(root=tmp_path, project=None)
    assert list(tornado_recent(context)) == []
    monkeypatch.setattr(tornado, "version_info", (6, 4, 2, 0))
    monkeypatch.setattr(tornado, "version", "6.4.2")
    assert list(tornado_recent(context)) == ["installed Tornado 6.4.2 is below the security floor 6.6.0"]


def test_body_size_check_skips_a_max_body_size_the_app_itself_refuses(tmp_path: Path) -> None:
    from tornado_kit.check.nginx_checks import body_sizes_agree

    site = tmp_path / "site.conf"
    site.write_text("server { client_max_body_size 2m; }\n", encoding="utf-8")
    nginx = load_nginx(site, include_dirs=())
    refused = CheckContext(root=tmp_path, project=None, env={"MAX_BODY_SIZE": "lots"}, nginx=[nginx])
    assert list(body_sizes_agree(refused)) == []  # the app did not load: app.E001 says why
    valid = CheckContext(root=tmp_path, project=None, env={"MAX_BODY_SIZE": "1048576"}, nginx=[nginx])
    assert list(body_sizes_agree(valid)) == [
        "site.conf:1: client_max_body_size 2m (2097152 bytes) but the app's max_body_size is 1048576"
    ]


def test_a_non_ascii_digit_in_a_port_or_count_is_not_a_number(tmp_path: Path) -> None:
    from tornado_kit.check.supervisor_checks import ports_agree

    conf = tmp_path / "site.conf"
    conf.write_text("[program:site]\ncommand=python -m site --port \u00b2\nnumprocs=\u00b2\n", encoding="utf-8")
    site = tmp_path / "site.nginx"
    site.write_text("upstream app { server 127.0.0.1:\u00b2; }\n", encoding="utf-8")
    processes = load_supervisor(conf)
    assert len(processes) == 1  # numprocs that is not a number: supervisor's default, 1
    context = CheckContext(root=tmp_path, project=None, nginx=[load_nginx(site, include_dirs=())], supervisor=processes)
    assert list(ports_agree(context)) == []


def test_paths_supervisor_cuts_at_a_comment_are_found_and_notes_are_not(tmp_path: Path) -> None:
    path = tmp_path / "web.conf"
    path.write_text(
        "[program:web]\ncommand='/opt/my #venv/bin/python' -m web\ndirectory=/srv/my #site\n"
        "stopasgroup=true # a note\nstdout_logfile=/var/log/web.log  # a note too\n",
        encoding="utf-8",
    )
    assert comment_cuts(path) == [
        "web.conf:2 [program:web] command= is cut at ' #' to \"'/opt/my\"",
        "web.conf:3 [program:web] directory= is cut at ' #' to '/srv/my'",
    ]


def test_a_file_nested_thousands_of_blocks_deep_is_a_syntax_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.conf"
    path.write_text("location / {\n" * 5000 + "return 204;\n" + "}\n" * 5000, encoding="utf-8")
    with pytest.raises(NginxSyntaxError, match="line 65: blocks nested more than 64 deep"):
        load_nginx(path)
