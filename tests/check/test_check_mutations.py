"""Each problem, introduced alone into a fresh copy of a good project, fails `tkit check` with its id;
the good project passes; the secret never appears in any output. Real `tkit` subprocesses throughout."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from check.baseline import PACKAGE, new_secret, write_baseline
from support import require_tool, run_tkit

pytestmark = pytest.mark.slow

Mutation = Callable[[Path, str], None]
APP = f"{PACKAGE}/app.py"
NGINX = f"deploy/nginx/{PACKAGE}.conf"
SUPERVISOR = f"deploy/supervisor/{PACKAGE}.conf"
LOGIN = f"{PACKAGE}/templates/login.html"


def replace(path: Path, old: str, new: str) -> None:
    """Replace text that must be there (so a changed baseline breaks the test, not silently passes)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def edit(relative: str, old: str, new: str) -> Mutation:
    """A mutation that replaces `old` by `new` in one file."""
    return lambda root, secret: replace(root / relative, old, new)


def set_env(line: str) -> Mutation:
    """A mutation that adds a line to .env (keeping its mode)."""

    def apply(root: Path, secret: str) -> None:
        with (root / ".env").open("a", encoding="utf-8") as env:
            env.write(line + "\n")

    return apply


def chain(*mutations: Mutation) -> Mutation:
    """Several edits that together make one problem."""
    return lambda root, secret: [m(root, secret) for m in mutations] and None


def commit_env(root: Path, secret: str) -> None:
    """Put the project, .env included, under git."""
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True, timeout=60)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True, timeout=60)
    subprocess.run([*git, "commit", "-q", "-m", "all"], cwd=root, check=True, timeout=60)


def secret_in_tracked_file(root: Path, secret: str) -> None:
    """Git-track a settings file holding the secret, with .env itself ignored."""
    (root / ".gitignore").write_text(".env\n", encoding="utf-8")
    (root / "settings_backup.txt").write_text(f"key = {secret}\n", encoding="utf-8")
    commit_env(root, secret)


def remove_secret(root: Path, secret: str) -> None:
    replace(root / ".env", f"COOKIE_SECRET={secret}\n", "")


MUTATIONS: dict[str, tuple[Mutation, bool]] = {
    # id: (mutation, needs --deploy)
    "app.E001": (edit(APP, "    env = read_env()\n", "    raise RuntimeError('broken factory')\n"), False),
    "templates.E001": (edit(LOGIN, '<input name="q">', '{% if q %}<input name="q">'), False),
    "templates.E002": (edit(LOGIN, "  {% module xsrf_form_html() %}\n", ""), False),
    "websocket.E001": (
        edit(
            APP,
            "    def on_message",
            "    def check_origin(self, origin: str) -> bool:\n        return True\n\n    def on_message",
        ),
        False,
    ),
    "routes.W001": (
        edit(
            APP,
            '            tornado.web.url(r"/login"',
            '            (r"/(.*)", Login),\n            tornado.web.url(r"/login"',
        ),
        False,
    ),
    "routes.W002": (edit(APP, 'name="note"', 'name="login"'), False),
    "security.E001": (set_env("DEBUG=1"), True),
    "security.E002": (
        edit(APP, "        xsrf_cookies=True,", "        xsrf_cookies=True,\n        serve_traceback=True,"),
        True,
    ),
    "security.E003": (remove_secret, True),
    "security.E004": (chain(remove_secret, set_env("COOKIE_SECRET=Zq8#xT2!mK9$wL4@")), True),
    "security.E005": (
        chain(remove_secret, set_env("COOKIE_SECRET=please-change-me-to-something-random-0123456789")),
        True,
    ),
    "security.E006": (commit_env, True),
    "security.E007": (lambda root, secret: (root / ".env").chmod(0o644), True),
    "security.E008": (edit(APP, "xsrf_cookies=True,", "xsrf_cookies=False,"), True),
    "security.W009": (edit(APP, "cross_origin_protection=True,", "cross_origin_protection=False,"), True),
    "security.E010": (edit(APP, "        login_url=", "        autoescape=None,\n        login_url="), True),
    "security.E012": (edit(APP, 'httponly=True, samesite="Lax", ', ""), True),
    "security.E013": (
        chain(set_env("HTTPS=1"), edit(APP, '{"secure": https, "samesite": "Lax"}', '{"samesite": "Lax"}')),
        True,
    ),
    "websocket.W001": (edit(APP, "        websocket_max_message_size=65536,\n", ""), True),
    "websocket.W002": (edit(APP, "        websocket_ping_interval=30,\n", ""), True),
    "deploy.E001": (edit(APP, '        max_body_size=int(env.get("MAX_BODY_SIZE", "1048576")),\n', ""), True),
    "deploy.E002": (edit(NGINX, "client_max_body_size 1m;", "client_max_body_size 10m;"), True),
    "deploy.W003": (lambda root, secret: (root / NGINX).unlink(), True),
    "deploy.E004": (edit(NGINX, "    location / {", "    location / "), True),
    "deploy.E005": (edit(SUPERVISOR, "--address 127.0.0.1", "--address 0.0.0.0"), True),
    "deploy.W007": (
        chain(
            edit(SUPERVISOR, "--address 127.0.0.1", "--address 10.0.0.11"),
            edit(NGINX, "server 127.0.0.1:", "server 10.0.0.11:"),
        ),
        True,
    ),
    "deploy.E006": (
        edit(NGINX, "    server 127.0.0.1:8002;", "    server 127.0.0.1:8002;\n    server 127.0.0.1:8003;"),
        True,
    ),
    "supervisor.E001": (edit(SUPERVISOR, f"user={PACKAGE}\n", ""), True),
    "supervisor.E002": (edit(SUPERVISOR, "killasgroup=true\n", ""), True),
    "supervisor.E003": (edit(SUPERVISOR, "stopwaitsecs=15", "stopwaitsecs=10"), True),
    "supervisor.E004": (
        edit(SUPERVISOR, 'environment=PYTHONUNBUFFERED="1"', 'environment=PYTHONUNBUFFERED="1",DEBUG="1"'),
        True,
    ),
    "supervisor.E005": (
        lambda root, secret: replace(
            root / SUPERVISOR,
            'environment=PYTHONUNBUFFERED="1"',
            f'environment=PYTHONUNBUFFERED="1",APP_KEY="{secret}"',
        ),
        True,
    ),
    "supervisor.E006": (edit(SUPERVISOR, f"directory=/srv/{PACKAGE}\n", f"directory=/srv/my #{PACKAGE}\n"), True),
    "nginx.E001": (
        edit(
            NGINX,
            "        proxy_pass http://goodapp_app;\n    }\n}",
            "        proxy_set_header X-Request-Id $request_id;\n        proxy_pass http://goodapp_app;\n    }\n}",
        ),
        True,
    ),
    "nginx.W002": (edit(NGINX, "    proxy_set_header X-Scheme $scheme;\n", ""), True),
    "nginx.E003": (edit(NGINX, "proxy_set_header Host $host;", "proxy_set_header Host $http_host;"), True),
    "nginx.E004": (edit(NGINX, "location /static/ {", "location /static {"), True),
    "nginx.W005": (edit(NGINX, "    server_tokens off;\n", ""), True),
    "nginx.E006": (
        edit(
            NGINX,
            "    proxy_set_header Upgrade $http_upgrade;\n    proxy_set_header Connection $connection_upgrade;\n",
            "",
        ),
        True,
    ),
}
# Findings that rightly come with a mutation (gixy sees some problems too; a location with its own
# proxy_set_header loses X-Scheme as well as the required headers; DEBUG=1 in supervisor reaches the app).
ALSO_FOUND = {
    "supervisor.E004": {"security.E001"},
    "nginx.E001": {"nginx.W002"},
    "nginx.E003": {"nginx.W101"},
    "nginx.E004": {"nginx.W101"},
    "nginx.W005": {"nginx.W101"},
}
TOOL_MUTATIONS: dict[str, tuple[str, Mutation]] = {
    "nginx.E100": ("nginx", edit(NGINX, "        expires 1y;", "        expires 1y;\n        proxy_buffering maybe;")),
    "nginx.W101": (
        "gixy",
        chain(
            edit(
                NGINX,
                "    server_tokens off;\n",
                "    server_tokens off;\n    add_header X-Frame-Options DENY always;\n",
            ),
            edit(NGINX, "        expires 1y;", "        expires 1y;\n        add_header Cache-Control public;"),
        ),
    ),
}


def finding_ids(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The ids in a `--json` report."""
    return [finding["id"] for finding in json.loads(result.stdout)["findings"]]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The good project, written once; each test works on its own copy."""
    secret = new_secret()
    return write_baseline(tmp_path_factory.mktemp("baseline") / PACKAGE, secret), secret


def fresh_copy(pristine: tuple[Path, str], tmp_path: Path) -> tuple[Path, str]:
    """A copy of the good project (modes kept) for one mutation."""
    source, secret = pristine
    root = tmp_path / PACKAGE
    shutil.copytree(source, root)
    return root, secret


def test_good_project_passes_every_check(pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, secret = fresh_copy(pristine, tmp_path)
    result = run_tkit(root, "check", "--deploy", "--fail-level", "info")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert secret not in result.stdout + result.stderr


@pytest.mark.parametrize("check_id", sorted(MUTATIONS))
def test_each_problem_alone_fails_with_its_id(check_id: str, pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, secret = fresh_copy(pristine, tmp_path)
    mutation, deploy = MUTATIONS[check_id]
    mutation(root, secret)
    result = run_tkit(root, "check", *(["--deploy"] if deploy else []), "--fail-level", "warning", "--json")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert check_id in finding_ids(result), output
    assert set(finding_ids(result)) - ALSO_FOUND.get(check_id, set()) == {check_id}, output
    assert secret not in output
    text = run_tkit(root, "check", *(["--deploy"] if deploy else []))
    assert check_id in text.stdout and secret not in text.stdout + text.stderr
    assert text.returncode == (1 if ".E" in check_id else 0), text.stdout + text.stderr


@pytest.mark.parametrize("check_id", sorted(TOOL_MUTATIONS))
def test_external_tools_report_their_findings(check_id: str, pristine: tuple[Path, str], tmp_path: Path) -> None:
    tool, mutation = TOOL_MUTATIONS[check_id]
    require_tool(tool)
    root, secret = fresh_copy(pristine, tmp_path)
    mutation(root, secret)
    result = run_tkit(root, "check", "--deploy", "--fail-level", "warning", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert finding_ids(result) == [check_id], result.stdout


def test_deploy_checks_are_not_run_without_deploy(pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, secret = fresh_copy(pristine, tmp_path)
    set_env("DEBUG=1")(root, secret)
    result = run_tkit(root, "check", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert finding_ids(result) == []


def test_secret_is_redacted_even_from_an_exception_message(pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, secret = fresh_copy(pristine, tmp_path)
    replace(
        root / APP,
        "    env = read_env()\n",
        "    env = read_env()\n    raise ValueError('bad key ' + env['COOKIE_SECRET'])\n",
    )
    result = run_tkit(root, "check")
    assert result.returncode == 1
    assert "app.E001" in result.stdout and "bad key ********" in result.stdout
    assert secret not in result.stdout + result.stderr


def test_an_nginx_file_nested_5000_blocks_deep_is_one_finding(pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, _ = fresh_copy(pristine, tmp_path)
    (root / "deploy" / "nginx" / "deep.conf").write_text("http {\n" * 5000 + "}\n" * 5000, encoding="utf-8")
    result = run_tkit(root, "check", "--deploy", "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert finding_ids(result) == ["deploy.E004"], result.stdout


def test_outside_a_project_is_a_clear_error(tmp_path: Path) -> None:
    result = run_tkit(tmp_path, "check")
    assert result.returncode == 1
    assert "Error:" in result.stderr and "Traceback" not in result.stderr
    bad = run_tkit(tmp_path, "check", "--app", "nocolon")
    assert bad.returncode == 2 and "module:factory" in bad.stderr


def test_stand_in_certificates_let_nginx_test_run(pristine: tuple[Path, str], tmp_path: Path) -> None:
    require_tool("nginx")
    root, secret = fresh_copy(pristine, tmp_path)
    tls = (
        '    listen 443 ssl;\n    ssl_certificate "/etc/ssl/nowhere/site.pem";\n'
        "    ssl_certificate_key /etc/ssl/nowhere/site.key;\n"
        "    ssl_protocols TLSv1.2 TLSv1.3;\n"
        "    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256;\n"
        '    add_header Strict-Transport-Security "max-age=63072000" always;\n'
    )
    replace(root / NGINX, "    listen 80;\n", "    listen 80;\n" + tls)
    result = run_tkit(root, "check", "--deploy", "--fail-level", "info", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    assert finding_ids(result) == ["nginx.I102", "nginx.I102"], result.stdout
    assert secret not in result.stdout + result.stderr
    replace(root / NGINX, "ssl_protocols TLSv1.2 TLSv1.3;", "ssl_protocols TLSv9;")
    broken = run_tkit(root, "check", "--deploy", "--json")
    assert "nginx.E100" in finding_ids(broken), broken.stdout


def test_secret_copied_into_another_tracked_file_is_found(pristine: tuple[Path, str], tmp_path: Path) -> None:
    root, secret = fresh_copy(pristine, tmp_path)
    secret_in_tracked_file(root, secret)
    result = run_tkit(root, "check", "--deploy", "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    messages = [f["message"] for f in json.loads(result.stdout)["findings"] if f["id"] == "security.E006"]
    assert messages == ["the cookie secret appears in a file tracked by git"]
    assert secret not in result.stdout + result.stderr
