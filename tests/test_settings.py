"""tkit's settings reader (tornado_kit/settings.py) and the generated app's settings.py agree: the same
`.env` and environment give the same settings, or the same refusal word for word."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tornado_kit import settings as tkit_settings
from tornado_kit.cli import main

GOOD = "q7Vd9KpL2mXw4RtZ8bNc6HjF3sGy5UeA1oIiPlMn"  # 40 characters, no placeholder word
GOOD2 = "Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0FfDdSsAaQqWwE"

# (name, files {relative path: bytes}, environment)
CASES: list[tuple[str, dict[str, bytes], dict[str, str]]] = [
    ("plain", {".env": f"COOKIE_SECRET={GOOD}\n".encode()}, {}),
    ("export", {".env": f"export COOKIE_SECRET={GOOD}\nexport  DEBUG=1\nexport X=1\n".encode()}, {}),
    ("double quotes", {".env": f'COOKIE_SECRET="{GOOD}"\nALLOWED_HOSTS=" a.example , B.example "\n'.encode()}, {}),
    ("single quotes", {".env": f"COOKIE_SECRET='{GOOD}'\nREDIS_URL='redis://127.0.0.1:6379/0'\n".encode()}, {}),
    ("unmatched quotes kept", {".env": f"COOKIE_SECRET={GOOD}\nREDIS_URL=\"redis://h/0'\n".encode()}, {}),
    ("quote inside kept", {".env": f"COOKIE_SECRET={GOOD}\nADDRESS=\"'127.0.0.2'\"\n".encode()}, {}),
    ("comments and junk lines", {".env": f"# c\n\nnot a setting\n=nokey\n  COOKIE_SECRET = {GOOD}  \n".encode()}, {}),
    ("decimal shutdown timeout", {".env": f"COOKIE_SECRET={GOOD}\nSHUTDOWN_TIMEOUT=2.5\n".encode()}, {}),
    ("exponent body size", {".env": f"COOKIE_SECRET={GOOD}\nMAX_BODY_SIZE=1e6\n".encode()}, {}),
    ("exponent timeout", {".env": f"COOKIE_SECRET={GOOD}\nSHUTDOWN_TIMEOUT=1e3\n".encode()}, {}),
    ("zero timeout", {".env": f"COOKIE_SECRET={GOOD}\nSHUTDOWN_TIMEOUT=0\n".encode()}, {}),
    ("decimal body size", {".env": f"COOKIE_SECRET={GOOD}\nMAX_BODY_SIZE=2.5\n".encode()}, {}),
    ("spaced number in environment", {".env": f"COOKIE_SECRET={GOOD}\n".encode()}, {"MAX_BODY_SIZE": " 2048 "}),
    ("superscript digit", {".env": f"COOKIE_SECRET={GOOD}\nPORT=²\n".encode()}, {}),
    ("5,000-digit body size", {".env": f"COOKIE_SECRET={GOOD}\nMAX_BODY_SIZE={'9' * 5000}\n".encode()}, {}),
    ("400-nines timeout", {".env": f"COOKIE_SECRET={GOOD}\nSHUTDOWN_TIMEOUT={'9' * 400}.5\n".encode()}, {}),
    ("long fraction", {".env": f"COOKIE_SECRET={GOOD}\nSHUTDOWN_TIMEOUT=2.{'5' * 400}\n".encode()}, {}),
    ("port out of range", {".env": f"COOKIE_SECRET={GOOD}\nPORT=70000\n".encode()}, {}),
    ("environment wins", {".env": f"COOKIE_SECRET={GOOD}\nMAX_BODY_SIZE=1\n".encode()}, {"MAX_BODY_SIZE": "2"}),
    (
        "ENV_FILE",
        {".env": b"MAX_BODY_SIZE=1\n", "conf/prod.env": f"COOKIE_SECRET={GOOD}\nMAX_BODY_SIZE=4096\n".encode()},
        {"ENV_FILE": "conf/prod.env"},
    ),
    ("ENV_FILE empty", {".env": f"COOKIE_SECRET={GOOD}\nMAX_BODY_SIZE=4096\n".encode()}, {"ENV_FILE": ""}),
    ("ENV_FILE missing", {".env": f"COOKIE_SECRET={GOOD}\n".encode()}, {"ENV_FILE": "nowhere.env", "DEBUG": "1"}),
    ("key versions", {".env": f"COOKIE_SECRET=2:{GOOD2},1:{GOOD}\n".encode()}, {}),
    ("key versions spaced", {".env": f"COOKIE_SECRET=' 2: {GOOD2} , 1:{GOOD} '\n".encode()}, {}),
    ("key version twice", {".env": f"COOKIE_SECRET=1:{GOOD2},1:{GOOD}\n".encode()}, {}),
    ("key version not a number", {".env": f"COOKIE_SECRET=new:{GOOD2},1:{GOOD}\n".encode()}, {}),
    ("empty versioned key", {".env": b"COOKIE_SECRET=2:,1:x\n"}, {"DEBUG": "1"}),
    ("trailing comma", {".env": f"COOKIE_SECRET=2:{GOOD2},\n".encode()}, {}),
    ("short key", {".env": b"COOKIE_SECRET=short\n"}, {}),
    ("placeholder key", {".env": b"COOKIE_SECRET=changeme-changeme-changeme-changeme-1234567890\n"}, {}),
    ("no secret", {".env": b"DEBUG=0\n"}, {}),
    ("no secret in debug", {".env": b"DEBUG=yes\n"}, {}),
    ("bad flag", {".env": f"COOKIE_SECRET={GOOD}\nDEBUG=maybe\n".encode()}, {}),
    ("no .env at all", {}, {"COOKIE_SECRET": GOOD, "HTTPS": "on"}),
    ("UTF-8 BOM", {".env": f"\ufeffCOOKIE_SECRET={GOOD}\n".encode()}, {}),
    ("binary junk", {".env": b"\xff\xfe\x00\x81\x93junk\n"}, {}),
    ("NUL byte", {".env": f"COOKIE_SECRET={GOOD}\nX=\x00\n".encode()}, {}),
]
COMPARED = [field.name for field in fields(tkit_settings.AppSettings)]


@pytest.fixture(scope="module")
def app_settings(generated_project: Path) -> Iterator[ModuleType]:
    """The generated project's settings.py, imported on its own (dataclasses need it in sys.modules)."""
    name = "generated_mysite_settings"
    spec = importlib.util.spec_from_file_location(name, generated_project / "mysite" / "settings.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[name]


def outcome(load: Any, error: type[Exception]) -> tuple[str, Any]:
    """("ok", the compared fields) or ("refused", the message)."""
    try:
        loaded = load()
    except error as exc:
        return "refused", str(exc)
    return "ok", {name: getattr(loaded, name) for name in COMPARED}


@pytest.mark.parametrize(("name", "files", "environ"), CASES, ids=[case[0] for case in CASES])
def test_tkit_reads_settings_as_the_generated_app_does(
    name: str,
    files: dict[str, bytes],
    environ: dict[str, str],
    app_settings: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for relative, content in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(content)
    monkeypatch.chdir(tmp_path)  # the app reads ENV_FILE relative to its working directory, the project root
    app = outcome(lambda: app_settings.load_settings(dict(environ)), app_settings.SettingsError)
    tkit = outcome(lambda: tkit_settings.load_settings(tmp_path, dict(environ)), tkit_settings.SettingsError)
    assert tkit == app
    shown = environ.get("ENV_FILE") or ".env"  # the raw KEY=VALUE pairs too, e.g. `export X=1` is X in both
    app_file = outcome_of(lambda: app_settings.read_env_file(Path(shown)), app_settings.SettingsError)
    tkit_file = outcome_of(lambda: tkit_settings.read_env_file(tmp_path / shown, shown), tkit_settings.SettingsError)
    assert tkit_file == app_file


def outcome_of(read: Any, error: type[Exception]) -> tuple[str, Any]:
    """("ok", what `read` returned) or ("refused", the message)."""
    try:
        return "ok", read()
    except error as exc:
        return "refused", str(exc)


def test_the_cases_cover_both_answers() -> None:
    """The cases above are only worth something if some are accepted and some refused."""
    names = {case[0] for case in CASES}
    assert {"export", "UTF-8 BOM", "key versions", "decimal shutdown timeout"} <= names
    assert {"binary junk", "exponent body size", "key version twice"} <= names


def test_export_quotes_and_bom_give_the_expected_values(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(f"\ufeffexport COOKIE_SECRET='{GOOD}'\nSHUTDOWN_TIMEOUT=2.5\n".encode())
    loaded = tkit_settings.load_settings(tmp_path, {})
    assert loaded.cookie_secrets == {0: GOOD} and loaded.shutdown_timeout == 2.5


def test_the_app_refuses_binary_junk_in_one_line(generated_project: Path, tmp_path: Path) -> None:
    project = tmp_path / "site"
    subprocess.run(["cp", "-a", str(generated_project), str(project)], check=True, timeout=60)
    (project / ".env").write_bytes(b"\xff\xfe\x00\x81junk\n")
    done = subprocess.run(
        [sys.executable, "-m", "mysite", "--port", "1"],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(project)},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == "error: .env is not UTF-8 text (bad byte at offset 0)\n"


def test_deploy_config_refuses_binary_junk_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner
    from deploy.projects import make_project

    project = make_project(tmp_path / "site")
    (project / ".env").write_bytes(b"\xff\xfe\x00\x81junk\n")
    monkeypatch.delenv("ENV_FILE", raising=False)
    result = CliRunner().invoke(main, ["deploy-config", "--app-dir", str(project), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr == "Error: .env is not UTF-8 text (bad byte at offset 0)\n"
    assert not (tmp_path / "out").exists()


def test_check_refuses_binary_junk_in_one_line(
    generated_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    project = tmp_path / "site"
    subprocess.run(["cp", "-a", str(generated_project), str(project)], check=True, timeout=60)
    (project / ".env").write_bytes(b"\xff\xfe\x00\x81junk\n")
    monkeypatch.delenv("ENV_FILE", raising=False)
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["check", "--deploy"])
    assert (result.exit_code, result.stderr) == (2, "Error: .env is not UTF-8 text (bad byte at offset 0)\n")


def test_the_dev_servers_error_page_takes_allowed_hosts_from_env_as_the_app_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tornado_kit.serve.child import host_is_local_or_allowed

    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    monkeypatch.delenv("ENV_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # the app process runs in the project root
    (tmp_path / ".env").write_text("export ALLOWED_HOSTS='dev.example, Other.example'\n")
    assert host_is_local_or_allowed("dev.example") and host_is_local_or_allowed("other.example")
    assert not host_is_local_or_allowed("attacker.example")
    (tmp_path / ".env").write_bytes(b"\xff junk")  # the page shows why the app failed: it must not fail too
    monkeypatch.setenv("ALLOWED_HOSTS", "env.example")
    assert host_is_local_or_allowed("env.example") and not host_is_local_or_allowed("dev.example")
