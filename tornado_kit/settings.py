"""Read a project's settings with exactly the generated app's rules, for the commands that must agree with
the app (`tkit check`, `tkit deploy-config`, the generators).

The generated `settings.py` (templates/project/__package__/settings.py.jinja) cannot import tkit, so the
same rules are written there too; tests/test_settings.py feeds the same inputs to both and requires the
same answer or the same refusal, word for word. The rules:

- Real environment variables win over the settings file. The file is `$ENV_FILE` (relative to the
  project root, which is the app's working directory), else `.env`; a missing file is no settings.
- The file is UTF-8 text (a BOM is allowed) of `KEY=VALUE` lines; `export KEY=VALUE` is the same line.
  Blank lines, `#` comments and lines without `=` are skipped. Space around the key and the value is
  dropped, then one pair of matching quotes (`"..."` or `'...'`) around the value. The last line of a key
  wins. A file that is not UTF-8 text, or has a NUL byte, is refused.
- Flags (DEBUG, HTTPS) are 1/true/yes/on or 0/false/no/off (any case); whole numbers (PORT,
  MAX_BODY_SIZE) are positive decimal digits; SHUTDOWN_TIMEOUT is a positive number of seconds such as
  10 or 2.5 (no exponent). Empty means the default.
- COOKIE_SECRET is one key (version 0) or versioned keys `2:new,1:old` (the first signs new cookies);
  a version appears once, every key is non-empty, and outside debug at least 32 characters and not a
  placeholder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tornado_kit.errors import BadInput

ENV_FILE = ".env"
MIN_SECRET_LENGTH = 32
PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "replace",
    "placeholder",
    "your-secret",
    "secret-key",
    "secret_key",
)
DEBUG_COOKIE_SECRET = "debug-only-insecure-cookie-key-" + "0" * 32
DEFAULT_ALLOWED_HOSTS = "localhost,127.0.0.1"
DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_SHUTDOWN_TIMEOUT = 10.0
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


class SettingsError(BadInput):
    """A setting the app would refuse to start with (exit 2); the message is the app's own."""


@dataclass(frozen=True)
class AppSettings:
    """The settings tkit reads, as the app would see them."""

    cookie_secrets: dict[int, str]
    debug: bool
    port: int
    address: str
    https: bool
    allowed_hosts: tuple[str, ...]
    max_body_size: int
    redis_url: str | None
    shutdown_timeout: float


@dataclass(frozen=True)
class DeploySettings:
    """The settings the proxy and the process manager depend on (no secret needed to read them)."""

    max_body_size: int
    shutdown_timeout: float
    redis_url: str | None
    allowed_hosts: tuple[str, ...]
    database_url: str | None = None


def env_file_path(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The settings file: `$ENV_FILE` relative to the project root, else root/.env."""
    environ = os.environ if environ is None else environ
    return root / (environ.get("ENV_FILE") or ENV_FILE)


def project_values(root: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The settings file's values overridden by the environment's, as the app merges them."""
    environ = os.environ if environ is None else environ
    shown = environ.get("ENV_FILE") or ENV_FILE
    return {**read_env_file(env_file_path(root, environ), shown), **environ}


def allowed_hosts(root: Path, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """ALLOWED_HOSTS as the app reads it; the environment's alone when the settings file cannot be read
    (the dev server's error page shows why the app failed to load: it must not fail as well)."""
    environ = os.environ if environ is None else environ
    try:
        values = project_values(root, environ)
    except SettingsError:
        values = dict(environ)
    return parse_host_list(values.get("ALLOWED_HOSTS") or DEFAULT_ALLOWED_HOSTS)


def load_settings(root: Path, environ: Mapping[str, str] | None = None) -> AppSettings:
    """Every setting tkit knows, or SettingsError with the message the app would stop with."""
    values = project_values(root, environ)
    debug = parse_flag(values, "DEBUG")
    return AppSettings(
        cookie_secrets=parse_cookie_secrets(values.get("COOKIE_SECRET", ""), debug=debug),
        debug=debug,
        port=check_port("PORT", parse_integer(values, "PORT", 8000)),
        address=values.get("ADDRESS") or "127.0.0.1",
        https=parse_flag(values, "HTTPS"),
        allowed_hosts=parse_host_list(values.get("ALLOWED_HOSTS") or DEFAULT_ALLOWED_HOSTS),
        max_body_size=parse_integer(values, "MAX_BODY_SIZE", DEFAULT_MAX_BODY_SIZE),
        redis_url=values.get("REDIS_URL") or None,
        shutdown_timeout=parse_number(values, "SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT),
    )


def load_deploy_settings(root: Path, environ: Mapping[str, str] | None = None) -> DeploySettings:
    """The settings `tkit deploy-config` renders into nginx and supervisor files."""
    values = project_values(root, environ)
    return DeploySettings(
        max_body_size=parse_integer(values, "MAX_BODY_SIZE", DEFAULT_MAX_BODY_SIZE),
        shutdown_timeout=parse_number(values, "SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT),
        redis_url=values.get("REDIS_URL") or None,
        allowed_hosts=parse_host_list(values.get("ALLOWED_HOSTS") or DEFAULT_ALLOWED_HOSTS),
        database_url=values.get("DATABASE_URL") or None,
    )


def read_env_file(path: Path, shown: str | None = None) -> dict[str, str]:
    """The file's values ({} when it does not exist); SettingsError when it cannot be read as text."""
    shown = shown or str(path)
    if not path.is_file():
        return {}
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SettingsError(f"cannot read {shown}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{shown} is not UTF-8 text (bad byte at offset {exc.start})") from None
    if "\0" in text:
        raise SettingsError(f"{shown} is not a text file (it contains a NUL byte)")
    return parse_env_text(text)


def parse_env_text(text: str) -> dict[str, str]:
    """KEY=VALUE lines, with the rules in the module docstring."""
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("export") and line[6:7].isspace():
            line = line[6:].lstrip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key:
            values[key] = value
    return values


def parse_flag(values: Mapping[str, str], name: str) -> bool:
    """A 0/1 setting (also true/false, yes/no, on/off); absent or empty is off."""
    raw = values.get(name, "0").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise SettingsError(f"{name} must be 0 or 1, got {raw!r}")


# Longer numbers are typos or attacks: they overflow float (inf) or int() refuses them (over 4300 digits).
MAX_DIGITS = 15


def _check_length(name: str, digits: str) -> None:
    if len(digits) > MAX_DIGITS:
        raise SettingsError(f"{name} must have at most {MAX_DIGITS} digits, got {len(digits)}")


def parse_integer(values: Mapping[str, str], name: str, default: int) -> int:
    """A positive whole number; absent or empty is `default`."""
    raw = values.get(name, "").strip()
    if not raw:
        return default
    _check_length(name, raw)
    if not raw.isdecimal() or int(raw) <= 0:
        raise SettingsError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def parse_number(values: Mapping[str, str], name: str, default: float) -> float:
    """A positive number like 10 or 2.5 (digits, at most one point, no exponent); absent or empty is `default`."""
    raw = values.get(name, "").strip()
    if not raw:
        return default
    whole, point, fraction = raw.partition(".")
    _check_length(name, whole)
    if not whole.isdecimal() or (point and not fraction.isdecimal()) or float(raw) <= 0:
        raise SettingsError(f"{name} must be a positive number such as 10 or 2.5, got {raw!r}")
    return float(raw)


def check_port(name: str, port: int) -> int:
    """`port` if it is a TCP port (1-65535)."""
    if not 1 <= port <= 65535:
        raise SettingsError(f"{name} must be a port between 1 and 65535, got {port}")
    return port


def parse_host_list(raw: str) -> tuple[str, ...]:
    """Comma-separated host names, lower case."""
    return tuple(host.strip().lower() for host in raw.split(",") if host.strip())


def parse_cookie_keys(raw: str) -> dict[int, str]:
    """`secret` or `2:new,1:old` -> {version: key}, first listed first; no strength checks."""
    raw = raw.strip()
    if "," not in raw and ":" not in raw:
        return {0: raw}
    keys: dict[int, str] = {}
    for item in raw.split(","):
        version, sep, key = item.strip().partition(":")
        if not sep or not version.isdecimal() or not key.strip():
            raise SettingsError("COOKIE_SECRET with several keys must look like 2:newkey,1:oldkey")
        if int(version) in keys:
            raise SettingsError(f"COOKIE_SECRET lists key version {int(version)} twice")
        keys[int(version)] = key.strip()
    return keys


def parse_cookie_secrets(raw: str, *, debug: bool) -> dict[int, str]:
    """The app's cookie keys: parsed, and checked for strength outside debug."""
    if not raw.strip():
        if debug:
            return {0: DEBUG_COOKIE_SECRET}
        raise SettingsError(
            "COOKIE_SECRET is not set (put it in .env; `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    keys = parse_cookie_keys(raw)
    for key in keys.values():
        problem = None if debug else secret_problem(key)
        if problem:
            raise SettingsError(problem)
    return keys


def secret_problem(key: str) -> str | None:
    """Why the app refuses `key` as a cookie key outside debug, or None."""
    if len(key) < MIN_SECRET_LENGTH:
        return f"COOKIE_SECRET keys must be at least {MIN_SECRET_LENGTH} characters"
    if any(word in key.lower() for word in PLACEHOLDER_WORDS) or len(set(key)) < 10:
        return "COOKIE_SECRET looks like a placeholder; generate a random one"
    return None
