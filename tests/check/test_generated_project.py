"""End to end: a freshly generated project with the files `tkit deploy-config` renders passes
`tkit check --deploy`, and `tkit routes` lists every route of the generated URL map with flags
that match what the running app really does (anonymous requests to a real server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pgcluster import Cluster
from support import free_port, migrated_sqlite, run_tkit, stop_process_group, wait_for_http

pytestmark = pytest.mark.slow


def tkit(cwd: Path, *args: str, migrate: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in `cwd` without writing into the shared project (bytecode, the database), on a
    scratch database migrated first as a deploy does (unless `migrate` is False)."""
    with tempfile.TemporaryDirectory(prefix="tkit-check-db-") as scratch:
        database = Path(scratch) / "app.sqlite3"
        url = migrated_sqlite(cwd, database) if migrate else f"sqlite:///{database}"
        return run_tkit(cwd, *args, env={"DATABASE_URL": url, **extra}, timeout=300)


def project_secret(root: Path) -> str:
    """COOKIE_SECRET from the project's .env (to prove it never reaches the output)."""
    for line in (root / ".env").read_text(encoding="utf-8").splitlines():
        if line.startswith("COOKIE_SECRET="):
            return line.split("=", 1)[1].strip()
    raise AssertionError("the generated .env has no COOKIE_SECRET")


@pytest.fixture(scope="module")
def routes(generated_project: Path) -> dict[str, dict[str, Any]]:
    """`tkit routes --json` on the generated project, keyed by pattern."""
    result = tkit(generated_project, "routes", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["warnings"] == []
    return {row["pattern"]: row for row in report["routes"]}


def test_dev_checks_pass(generated_project: Path) -> None:
    before = sorted(p.relative_to(generated_project) for p in generated_project.rglob("*"))
    result = tkit(generated_project, "check", "--fail-level", "info")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    assert sorted(p.relative_to(generated_project) for p in generated_project.rglob("*")) == before


def test_deploy_checks_pass_on_the_rendered_deploy_files(generated_project: Path, tmp_path: Path) -> None:
    rendered = tkit(
        generated_project,
        "deploy-config",
        "--workers",
        "2",
        "--server-name",
        "example.com",
        "--out",
        str(tmp_path / "deploy"),
    )
    assert rendered.returncode == 0, rendered.stderr
    result = tkit(
        generated_project,
        "check",
        "--deploy",
        "--deploy-dir",
        str(tmp_path / "deploy"),
        "--fail-level",
        "info",
        "--json",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["findings"] == []
    assert project_secret(generated_project) not in result.stdout + result.stderr


def test_deploy_checks_pass_with_tls(generated_project: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "site.pem", tmp_path / "site.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=example.com",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    out = tmp_path / "deploy"
    rendered = tkit(
        generated_project,
        "deploy-config",
        "--workers",
        "2",
        "--server-name",
        "example.com",
        "--tls-cert",
        str(cert),
        "--tls-key",
        str(key),
        "--out",
        str(out),
    )
    assert rendered.returncode == 0, rendered.stderr
    result = tkit(generated_project, "check", "--deploy", "--deploy-dir", str(out), "--fail-level", "warning", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert project_secret(generated_project) not in result.stdout + result.stderr


def test_routes_cover_the_generated_url_map(routes: dict[str, dict[str, Any]]) -> None:
    for pattern in ("/", "/signup", "/login", "/logout", "/notes", "/api/notes", "/chat", "/ws/chat"):
        assert pattern in routes, f"{pattern} missing from {sorted(routes)}"
    note = next(row for pattern, row in routes.items() if pattern.startswith("/api/notes/("))
    assert {"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"} <= set(note["methods"])
    assert {"GET", "HEAD", "POST", "OPTIONS"} <= set(routes["/api/notes"]["methods"])
    assert routes["/logout"]["methods"] == ["POST"]
    assert set(routes["/login"]["methods"]) == {"GET", "POST"}
    assert any(pattern.startswith("/static/") for pattern in routes)


def test_route_flags(routes: dict[str, dict[str, Any]]) -> None:
    assert [p for p, row in routes.items() if row["websocket"]] == ["/ws/chat"]
    assert [p for p, row in routes.items() if row["xsrf_exempt"]] == []
    needs_login = {p for p, row in routes.items() if row["login_required"]}
    assert {"/", "/notes", "/chat", "/api/notes", "/ws/chat"} <= needs_login
    assert not needs_login & {"/signup", "/login"}
    assert set(routes["/api/notes"]["login_required"]) == set(routes["/api/notes"]["methods"])


@pytest.fixture(scope="module")
def running_app(generated_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The generated app served for real (`python -m mysite`), its database outside the project."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": migrated_sqlite(generated_project, tmp_path_factory.mktemp("db") / "app.sqlite3"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "mysite", "--port", str(port), "--address", "127.0.0.1"],
        cwd=generated_project,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/login", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process_group(process, timeout=30)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def anonymous_get(url: str) -> tuple[int, str]:
    """Status and Location of an anonymous GET."""
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Location", "")


def test_login_flags_match_what_the_server_does(routes: dict[str, dict[str, Any]], running_app: str) -> None:
    for pattern, row in routes.items():
        if "(" in pattern or "GET" not in row["methods"]:
            continue
        status, location = anonymous_get(running_app + pattern)
        refused = status == 401 or (status in (302, 303) and location.startswith("/login"))
        assert refused == ("GET" in row["login_required"]), f"{pattern}: {status} {location} vs {row}"


def test_multi_host_deploy_passes_with_a_firewall_warning(
    generated_project: Path, tmp_path: Path, postgres: Cluster
) -> None:
    out = tmp_path / "deploy"
    shared = postgres.create_database("check_hosts")
    assert migrated(generated_project, shared).returncode == 0
    rendered = tkit(
        generated_project,
        "deploy-config",
        "--workers",
        "2",
        "--hosts",
        "10.0.0.11,10.0.0.12",
        "--server-name",
        "example.com",
        "--out",
        str(out),
        DATABASE_URL=shared,
    )
    assert rendered.returncode == 0, rendered.stderr
    result = tkit(generated_project, "check", "--deploy", "--deploy-dir", str(out), "--json", DATABASE_URL=shared)
    assert result.returncode == 0, result.stdout + result.stderr
    finding_ids = [f["id"] for f in json.loads(result.stdout)["findings"]]
    assert finding_ids == ["deploy.W007", "deploy.W007"], result.stdout
    supervisor = out / "supervisor" / "mysite-10.0.0.12.conf"
    supervisor.write_text(
        supervisor.read_text(encoding="utf-8").replace("--address 10.0.0.12", "--address 10.0.0.13"), encoding="utf-8"
    )
    moved = tkit(generated_project, "check", "--deploy", "--deploy-dir", str(out), "--json", DATABASE_URL=shared)
    assert moved.returncode == 1
    messages = [f["message"] for f in json.loads(moved.stdout)["findings"] if f["id"] == "deploy.E006"]
    assert any("10.0.0.12:8001" in m for m in messages) and any("10.0.0.13:8002" in m for m in messages), messages


def migrated(project: Path, url: str) -> subprocess.CompletedProcess[str]:
    """`python -m mysite migrate` on `url`."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "mysite", "migrate"]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=120, check=False)


def findings(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """{check id: [messages]} from `tkit check --json`."""
    found: dict[str, list[str]] = {}
    for finding in json.loads(result.stdout)["findings"]:
        found.setdefault(finding["id"], []).append(finding["message"])
    return found


def test_deploy_config_refuses_several_hosts_on_sqlite(generated_project: Path, tmp_path: Path) -> None:
    result = tkit(generated_project, "deploy-config", "--hosts", "10.0.0.11,10.0.0.12", "--out", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "several hosts need one database server" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "d").exists()


def test_sqlite_with_several_hosts_is_an_error(generated_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    server = "postgresql+asyncpg://app@db.internal/app"  # only rendered against, never reached here
    rendered = tkit(
        generated_project, "deploy-config", "--hosts", "10.0.0.11,10.0.0.12", "--out", str(out), DATABASE_URL=server
    )
    assert rendered.returncode == 0, rendered.stderr
    result = tkit(generated_project, "check", "--deploy", "--deploy-dir", str(out), "--json")  # SQLite again
    assert result.returncode == 1
    assert "SQLite" in findings(result)["database.E001"][0]


def test_unapplied_migrations_are_an_error(generated_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "deploy"
    assert tkit(generated_project, "deploy-config", "--out", str(out)).returncode == 0
    result = tkit(generated_project, "check", "--deploy", "--deploy-dir", str(out), "--json", migrate=False)
    assert result.returncode == 1
    assert "migrate" in findings(result)["database.E002"][0]
    assert "database.E001" not in findings(result)
    migrated_run = tkit(generated_project, "check", "--deploy", "--deploy-dir", str(out), "--json")
    assert "database.E002" not in findings(migrated_run)
