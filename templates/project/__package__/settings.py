"""Settings from environment variables, else the project's `.env` file, else safe defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PLACEHOLDER_WORDS = ("changeme", "change-me", "change_me", "replace", "placeholder", "your-secret", "secret-key", "secret_key")
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class ScryptCost:
    """Cost parameters of hashlib.scrypt; the default is OWASP's (n=2**17, r=8, p=1)."""

    n: int = 2**17
    r: int = 8
    p: int = 1


@dataclass(frozen=True)
class Settings:
    """Everything the app needs to know about its environment, validated once at startup."""

    cookie_secrets: dict[int, str]
    debug: bool = False
    port: int = 8000
    address: str = "127.0.0.1"
    database_path: Path = Path("var/app.sqlite3")
    https: bool = False
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
    max_body_size: int = 1024 * 1024
    redis_url: str | None = None
    shutdown_timeout: float = 10.0
    session_days: int = 14
    scrypt: ScryptCost = field(default_factory=ScryptCost)
    prune_interval: float = 600.0

    @property
    def key_version(self) -> int:
        """The version of the cookie key that signs new cookies (the first one listed)."""
        return next(iter(self.cookie_secrets))


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from `environ` (default: os.environ) over the `.env` file (or $ENV_FILE)."""
    environ = os.environ if environ is None else environ
    values = {**read_env_file(Path(environ.get("ENV_FILE", ".env"))), **environ}
    debug = _flag(values, "DEBUG")
    return Settings(
        cookie_secrets=parse_cookie_secrets(values.get("COOKIE_SECRET", ""), debug=debug),
        debug=debug,
        port=_integer(values, "PORT", 8000),
        address=values.get("ADDRESS") or "127.0.0.1",
        database_path=Path(values.get("DATABASE_PATH") or default_database_path()),
        https=_flag(values, "HTTPS"),
        allowed_hosts=_host_list(values.get("ALLOWED_HOSTS") or "localhost,127.0.0.1"),
        max_body_size=_integer(values, "MAX_BODY_SIZE", 1024 * 1024),
        redis_url=values.get("REDIS_URL") or None,
        shutdown_timeout=float(_integer(values, "SHUTDOWN_TIMEOUT", 10)),
    )


def default_database_path() -> str:
    """var/<package>.sqlite3, relative to the working directory (outside static/)."""
    return f"var/{__package__}.sqlite3"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; blank lines and # comments are skipped, quotes around values removed."""
    if not path.is_file():
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def parse_cookie_secrets(raw: str, *, debug: bool) -> dict[int, str]:
    """`secret` or `2:new,1:old` -> {version: secret}; the first listed signs new cookies."""
    if not raw:
        if debug:
            return {0: "debug-only-insecure-cookie-key-" + "0" * 32}
        raise SettingsError("COOKIE_SECRET is not set (put it in .env; `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
    if "," not in raw and ":" not in raw:
        keys = {0: raw}
    else:
        keys = dict(_versioned_key(item) for item in raw.split(","))
    for key in keys.values():
        _check_secret(key, debug=debug)
    return keys


def _versioned_key(item: str) -> tuple[int, str]:
    version, sep, key = item.strip().partition(":")
    if not sep or not version.isdigit():
        raise SettingsError("COOKIE_SECRET with several keys must look like 2:newkey,1:oldkey")
    return int(version), key


def _check_secret(key: str, *, debug: bool) -> None:
    if debug:
        return
    if len(key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"COOKIE_SECRET keys must be at least {MIN_SECRET_LENGTH} characters")
    if any(word in key.lower() for word in PLACEHOLDER_WORDS) or len(set(key)) < 10:
        raise SettingsError("COOKIE_SECRET looks like a placeholder; generate a random one")


def _flag(values: Mapping[str, str], name: str) -> bool:
    raw = values.get(name, "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("", "0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 0 or 1, got {raw!r}")


def _integer(values: Mapping[str, str], name: str, default: int) -> int:
    raw = values.get(name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise SettingsError(f"{name} must be a positive whole number, got {raw!r}")
    return int(raw)


def _host_list(raw: str) -> tuple[str, ...]:
    return tuple(host.strip().lower() for host in raw.split(",") if host.strip())
