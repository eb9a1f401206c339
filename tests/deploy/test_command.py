"""`tkit deploy-config` through the CLI: defaults, refusals (exit 2, nothing written), --force, warnings."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from deploy.projects import make_project
from tornado_kit.cli import main


@pytest.fixture(autouse=True)
def no_app_settings_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("REDIS_URL", "MAX_BODY_SIZE", "SHUTDOWN_TIMEOUT", "ALLOWED_HOSTS"):
        monkeypatch.delenv(key, raising=False)


def run(project: Path, out: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["deploy-config", "--app-dir", str(project), "--out", str(out), *args])
    return result.exit_code, result.stdout, result.stderr


def tree(path: Path) -> dict[str, str]:
    return (
        {str(p.relative_to(path)): p.read_text() for p in sorted(path.rglob("*")) if p.is_file()}
        if path.exists()
        else {}
    )


def test_writes_three_files_and_prints_the_install_steps(tmp_path: Path) -> None:
    project = make_project(tmp_path / "site")
    code, stdout, stderr = run(project, tmp_path / "out", "--workers", "3", "--server-name", "localhost")
    assert code == 0, stderr
    assert set(tree(tmp_path / "out")) == {"nginx/mysite.conf", "supervisor/mysite.conf", "README.md"}
    assert stdout == (tmp_path / "out" / "README.md").read_text()
    assert f"sudo cp {tmp_path}/out/supervisor/mysite.conf /etc/supervisor/conf.d/mysite.conf" in stdout
    assert f"sudo cp {tmp_path}/out/nginx/mysite.conf /etc/nginx/conf.d/mysite.conf" in stdout
    assert "sudo nginx -t && sudo systemctl reload nginx" in stdout
    assert "workers: 3 (3 worker(s) as asked with --workers)" in stderr


def test_defaults_out_into_the_project_and_use_its_interpreter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = make_project(tmp_path / "site")
    monkeypatch.chdir(project / "mysite")
    result = CliRunner().invoke(main, ["deploy-config", "--workers", "1"])
    assert result.exit_code == 0, result.stderr
    supervisor = (project / "deploy" / "supervisor" / "mysite.conf").read_text()
    assert f"command={sys.executable} -m mysite --port %(process_num)d --address 127.0.0.1 --xheaders" in supervisor
    assert f"directory={project}\n" in supervisor
    venv_python = project / ".venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.touch()
    result = CliRunner().invoke(main, ["deploy-config", "--workers", "1", "--force"])
    assert f"command={venv_python} -m mysite" in (project / "deploy" / "supervisor" / "mysite.conf").read_text()


def test_workers_auto_says_how_it_decided(tmp_path: Path) -> None:
    code, _, stderr = run(make_project(tmp_path / "site"), tmp_path / "out")
    assert code == 0
    assert "CPU(s) in this process's affinity mask" in stderr


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--workers", "0"], "--workers must be between 1 and"),
        (["--workers", "-2"], "--workers must be between 1 and"),
        (["--workers", "two"], "--workers must be `auto` or a whole number"),
        (["--workers", "4", "--base-port", "65533"], "outside 1-65535"),
        (["--base-port", "0"], "outside 1-65535"),
        (["--listen", "70000"], "outside 1-65535"),
        (["--listen", "host:80"], "is not an IPv4 address"),
        (["--listen", "\u00b2"], "--listen must be PORT"),  # a digit to str.isdigit, not to int()
        (["--workers", "2", "--listen", "8002"], "nginx port 8002 is also a worker port (8001-8002)"),
        (["--server-name", "example.com; return 200"], "is not a host name"),
        (["--server-name", "a b"], "is not a host name"),
        (["--server-name", "x{"], "is not a host name"),
        (["--server-name", 'evil"'], "is not a host name"),
        (["--hosts", "10.0.0.1,bad host"], "is not a host name"),
        (["--hosts", "10.0.0.1;"], "is not a host name"),
        (["--hosts", "10.0.0.1", "--bind", "127.0.0.1"], "exclude each other"),
        (["--bind", "0.0.0.0\n"], "is not an IPv4 address"),
        (["--user", "www-data\ncommand=/bin/sh"], "is not a valid user name"),
        (["--user", "root"], "--user root would run the workers"),
        (["--python", "/opt/my #venv/bin/python"], "where supervisor would cut it as a comment"),
        (["--log-dir", "/var/log/my\u00a0#logs"], "where supervisor would cut it as a comment"),
        (["--python", "/usr/bin/python3;rm"], "contains a quote"),
        (["--log-dir", "/var/log/x\n[program:evil]"], "contains a quote"),
        (["--tls-cert", "/etc/cert.pem"], "--tls-cert and --tls-key go together"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path: Path, args: list[str], reason: str) -> None:
    code, _stdout, stderr = run(make_project(tmp_path / "site"), tmp_path / "out", *args)
    assert code == 2
    assert reason in stderr
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    assert tree(tmp_path / "out") == {}


def test_a_project_folder_supervisor_would_cut_at_a_comment_is_refused(tmp_path: Path) -> None:
    code, _, stderr = run(make_project(tmp_path / "my #site"), tmp_path / "out", "--workers", "1")
    assert code == 2 and stderr.count("\n") == 1
    assert "my #site" in stderr and "where supervisor would cut it as a comment" in stderr
    assert tree(tmp_path / "out") == {}
    assert run(make_project(tmp_path / "my#site"), tmp_path / "out", "--workers", "1")[0] == 0  # no space: no comment


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("static-dir", 'mysite/static/"; } location /leak/ { alias "/etc/', "static-dir"),
        ("static-dir", "mysite/my #static", "static-dir"),
        ("package", "mysite_app; }", "is not a Python package name"),
        ("static-url", "/static/; }", "is not a URL prefix"),
    ],
)
def test_pyproject_values_that_reach_nginx_or_supervisor_are_checked(
    tmp_path: Path, key: str, value: str, reason: str
) -> None:
    project = make_project(tmp_path / "site")
    pyproject = project / "pyproject.toml"
    lines = [line for line in pyproject.read_text().splitlines() if not line.startswith(f"{key} =")]
    pyproject.write_text("\n".join([*lines, f"{key} = {json.dumps(value)}"]) + "\n")
    code, _, stderr = run(project, tmp_path / "out", "--workers", "1")
    assert code == 2, stderr
    assert stderr.startswith("Error: [tool.tkit] in ") and stderr.count("\n") == 1, stderr
    assert reason in stderr
    assert tree(tmp_path / "out") == {}


def test_app_dir_that_is_not_a_project_exits_2(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    code, _, stderr = run(tmp_path / "plain", tmp_path / "out", "--workers", "1")
    assert code == 2
    assert "is not a tkit project" in stderr
    assert tree(tmp_path / "out") == {}


def test_bad_max_body_size_in_env_exits_2(tmp_path: Path) -> None:
    code, _, stderr = run(make_project(tmp_path / "site", env="MAX_BODY_SIZE=lots\n"), tmp_path / "out")
    assert code == 2
    assert stderr == "Error: MAX_BODY_SIZE must be a positive whole number, got 'lots'\n"  # the app's own words


@pytest.mark.parametrize("line", ["MAX_BODY_SIZE=" + "9" * 5000, "SHUTDOWN_TIMEOUT=" + "9" * 400])
def test_numbers_too_long_for_nginx_or_supervisor_exit_2_in_one_line(tmp_path: Path, line: str) -> None:
    """More digits than int() converts, or enough for float() to make inf: one line, not a traceback."""
    code, _, stderr = run(make_project(tmp_path / "site", env=line + "\n"), tmp_path / "out")
    name = line.split("=")[0]
    assert code == 2 and stderr.startswith(f"Error: {name} must have at most 15 digits"), stderr[-500:]
    assert stderr.count("\n") == 1 and tree(tmp_path / "out") == {}


@pytest.mark.parametrize(
    ("line", "expected"), [("SHUTDOWN_TIMEOUT=2.5", "stopwaitsecs=8"), ("MAX_BODY_SIZE=1e6", None)]
)
def test_numbers_follow_the_apps_rules(tmp_path: Path, line: str, expected: str | None) -> None:
    """2.5 s is a valid shutdown timeout for the app; 1e6 bytes is not a whole number to it (nor to tkit now)."""
    code, _, stderr = run(make_project(tmp_path / "site", env=line + "\n"), tmp_path / "out", "--workers", "1")
    if expected is None:
        assert code == 2 and "MAX_BODY_SIZE must be a positive whole number, got '1e6'" in stderr
    else:
        assert code == 0, stderr
        assert expected in (tmp_path / "out" / "supervisor" / "mysite.conf").read_text()


def test_existing_different_files_are_listed_and_kept_without_force(tmp_path: Path) -> None:
    project = make_project(tmp_path / "site")
    out = tmp_path / "out"
    assert run(project, out, "--workers", "2")[0] == 0
    assert run(project, out, "--workers", "2")[0] == 0  # identical: nothing to refuse
    (out / "README.md").write_text("my notes\n")
    before = tree(out)
    code, _, stderr = run(project, out, "--workers", "3")
    assert code == 1
    assert "use --force" in stderr
    assert str(out / "nginx" / "mysite.conf") in stderr and str(out / "README.md") in stderr
    assert tree(out) == before
    code, _, stderr = run(project, out, "--workers", "3", "--force")
    assert code == 0, stderr
    assert "overwrite" in stderr
    assert "numprocs=3" in (out / "supervisor" / "mysite.conf").read_text()


def test_more_than_one_worker_without_redis_warns_what_to_set(tmp_path: Path) -> None:
    project = make_project(tmp_path / "site")
    _, _, stderr = run(project, tmp_path / "a", "--workers", "2")
    assert "Warning: 2 workers but no REDIS_URL" in stderr
    assert f"Set REDIS_URL=redis://HOST:6379/0 in {project}/.env" in stderr
    _, _, stderr = run(project, tmp_path / "b", "--workers", "1")
    assert "REDIS_URL" not in stderr
    _, _, stderr = run(project, tmp_path / "c", "--workers", "1", "--hosts", "10.0.0.1,10.0.0.2")
    assert "Warning: 2 workers but no REDIS_URL" in stderr


def test_redis_url_in_env_file_or_environment_silences_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_redis = make_project(tmp_path / "a", env="REDIS_URL=redis://127.0.0.1:6379/0\n")
    assert "REDIS_URL" not in run(with_redis, tmp_path / "out-a", "--workers", "2")[2]
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert "REDIS_URL" not in run(make_project(tmp_path / "b"), tmp_path / "out-b", "--workers", "2")[2]


def test_a_project_without_websockets_needs_no_redis(tmp_path: Path) -> None:
    project = make_project(tmp_path / "site", websocket=False)
    assert "REDIS_URL" not in run(project, tmp_path / "out", "--workers", "4")[2]


def test_server_name_missing_from_allowed_hosts_warns(tmp_path: Path) -> None:
    _, _, stderr = run(
        make_project(tmp_path / "site"), tmp_path / "out", "--workers", "1", "--server-name", "example.com"
    )
    assert "ALLOWED_HOSTS" in stderr and "example.com" in stderr


def test_hosts_render_one_supervisor_file_per_host_and_a_shared_readme(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = run(
        make_project(tmp_path / "site"), out, "--workers", "2", "--hosts", "10.0.0.11,app2.internal"
    )
    assert code == 0
    files = tree(out)
    assert {"supervisor/mysite-10.0.0.11.conf", "supervisor/mysite-app2.internal.conf"} <= set(files)
    assert "supervisor/mysite.conf" not in files
    assert "--address app2.internal --xheaders" in files["supervisor/mysite-app2.internal.conf"]
    assert "On app2.internal, start the workers" in stdout
    assert "firewall ports 8001-8002 so that only the nginx host reaches them" in stderr
    for needed in ("COOKIE_SECRET", "SQLite", "single-host", "REDIS_URL"):
        assert needed in files["README.md"]


def test_a_symlinked_deploy_file_is_never_written_through_even_with_force(tmp_path: Path) -> None:
    project = make_project(tmp_path / "site")
    out = tmp_path / "out"
    assert run(project, out, "--workers", "2")[0] == 0
    elsewhere = tmp_path / "elsewhere.md"
    elsewhere.write_text("not tkit's\n")
    (out / "README.md").unlink()
    (out / "README.md").symlink_to(elsewhere)
    code, _, stderr = run(project, out, "--workers", "3", "--force")
    assert code == 1 and "never replaced" in stderr and str(out / "README.md") in stderr, stderr
    assert elsewhere.read_text() == "not tkit's\n"
    assert "numprocs=2" in (out / "supervisor" / "mysite.conf").read_text()  # all or nothing


def test_dry_run_writes_nothing_but_shows_the_plan(tmp_path: Path) -> None:
    code, stdout, stderr = run(make_project(tmp_path / "site"), tmp_path / "out", "--workers", "2", "--dry-run")
    assert code == 0
    assert f"create  {tmp_path}/out/nginx/mysite.conf (dry run: not written)" in stderr
    assert "## Install" in stdout
    assert tree(tmp_path / "out") == {}


def test_ipv6_with_a_listen_address_is_refused(tmp_path: Path) -> None:
    code, _, stderr = run(make_project(tmp_path / "site"), tmp_path / "out", "--ipv6", "--listen", "127.0.0.1:8080")
    assert code == 2 and "--ipv6" in stderr
    assert tree(tmp_path / "out") == {}


def test_outside_a_project_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["deploy-config", "--workers", "1"])
    assert result.exit_code == 1
    assert "no pyproject.toml with a [tool.tkit] table" in result.stderr
    assert list(tmp_path.iterdir()) == []
