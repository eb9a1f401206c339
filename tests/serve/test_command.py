"""`tkit serve` options, errors and output pieces, without starting a server."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve.devserver import DevServer

from tornado_kit.cli import main
from tornado_kit.serve.config import PortInUse, ServeConfig, bind_socket, make_config


def test_help_shows_options_and_examples() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for text in (
        "--reload / --no-reload",
        "--host",
        "--port",
        "--app",
        "--watch",
        "--ignore",
        "--poll",
        "tkit serve --app",
    ):
        assert text in result.output


def test_bad_app_spec_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--app", "just_a_module"])
    assert result.exit_code == 2
    assert "--app must look like module:factory" in result.output


def test_bad_port_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "70000"])
    assert result.exit_code == 2


def test_project_app_comes_from_pyproject(generated_project: Path) -> None:
    config = make_config(
        None, generated_project / "mysite", host="127.0.0.1", port=8000, reload=True, poll=False, watch=(), ignore=()
    )
    assert config.app_spec == "mysite.app:make_app"
    assert config.import_root == generated_project.resolve()
    assert config.workdir == generated_project.resolve(), "app processes run in the project root (.env, var/)"
    assert config.package == "mysite"


def test_app_option_outside_a_project_watches_the_current_folder(tmp_path: Path) -> None:
    config = make_config(
        "app:make_app", tmp_path, host="127.0.0.1", port=8000, reload=True, poll=False, watch=(), ignore=()
    )
    assert (config.app_spec, config.import_root, config.watch_root, config.project_root) == (
        "app:make_app",
        tmp_path.resolve(),
        tmp_path.resolve(),
        None,
    )


def test_port_in_use_is_a_refusal_naming_the_port() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port} is already in use") as info:
            bind_socket("127.0.0.1", port)
    assert info.value.exit_code == 1


def test_public_host_warns_that_tracebacks_are_visible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tornado_kit.serve import output

    config = ServeConfig("app:make_app", tmp_path, tmp_path, tmp_path, None, None, host="0.0.0.0", port=8123)
    output.banner(config, "Reload on: watching . (*.py, .env) with inotify")
    err = capsys.readouterr().err
    assert "http://127.0.0.1:8123/" in err
    assert "Warning: --host 0.0.0.0 makes the dev server reachable from the network, tracebacks included" in err
    loopback = ServeConfig("app:make_app", tmp_path, tmp_path, tmp_path, None, None)
    output.banner(loopback, None)
    assert "Warning" not in capsys.readouterr().err


def test_error_page_escapes_the_traceback() -> None:
    from tornado_kit.serve.child import render_error_page

    page = render_error_page('Traceback\n  File "x.py"\nValueError: <img src=x onerror=alert(1)>\n')
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img" not in page


def test_reload_without_fork_is_refused_before_binding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from tornado_kit.errors import TkitError
    from tornado_kit.serve import run_dev_server

    monkeypatch.delattr(os, "fork")
    with socket.socket() as taken:  # were the check missing, binding would fail with PortInUse instead
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        config = ServeConfig("app:make_app", tmp_path, tmp_path, tmp_path, None, None, port=taken.getsockname()[1])
        with pytest.raises(TkitError, match="--no-reload"):
            run_dev_server(config)


@pytest.mark.slow
def test_serve_applies_pending_migrations_first_in_one_line(
    generated_project: Path, tmp_path: Path, start_server: Callable[..., DevServer]
) -> None:
    project = tmp_path / "site"
    shutil.copytree(generated_project, project, ignore=shutil.ignore_patterns("var", "__pycache__"))
    assert not (project / "var" / "mysite.sqlite3").exists()
    server = start_server(project)
    server.wait_for("/login", lambda response: response.status == 200, timeout=60)
    log = server.log()
    assert log.splitlines()[0] == "tkit serve: migrated the database from nothing to 0001", log
    assert (project / "var" / "mysite.sqlite3").is_file()
    assert "alembic" not in log, "Alembic's INFO lines (plugin set-up) leak into the dev server's output"
