"""Read the generated app's settings that the deploy files must agree with, the way the app reads them."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tornado_kit.dotenv import parse_env_text
from tornado_kit.errors import BadInput

DEFAULT_MAX_BODY_SIZE = 1024 * 1024
DEFAULT_SHUTDOWN_TIMEOUT = 10.0


@dataclass(frozen=True)
class AppSettings:
    """The few settings the proxy and the process manager depend on."""

    max_body_size: int
    shutdown_timeout: float
    redis_url: str | None
    allowed_hosts: tuple[str, ...]


def load_app_settings(env_file: Path, environ: Mapping[str, str] | None = None) -> AppSettings:
    """Settings from the environment, else the project's `.env`, else the app's defaults."""
    environ = os.environ if environ is None else environ
    try:
        from_file = parse_env_text(env_file.read_text(encoding="utf-8")) if env_file.is_file() else {}
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {env_file}: {exc}") from exc
    merged = {**from_file, **{k: v for k, v in environ.items() if k in _KEYS}}
    hosts = merged.get("ALLOWED_HOSTS", "localhost,127.0.0.1")
    return AppSettings(
        max_body_size=int(_number(merged, "MAX_BODY_SIZE", DEFAULT_MAX_BODY_SIZE)),
        shutdown_timeout=_number(merged, "SHUTDOWN_TIMEOUT", DEFAULT_SHUTDOWN_TIMEOUT),
        redis_url=merged.get("REDIS_URL") or None,
        allowed_hosts=tuple(h.strip() for h in hosts.split(",") if h.strip()),
    )


_KEYS = ("MAX_BODY_SIZE", "SHUTDOWN_TIMEOUT", "REDIS_URL", "ALLOWED_HOSTS")


def _number(values: Mapping[str, str], key: str, default: float) -> float:
    """A positive number from the settings, or the app's default when unset."""
    text = values.get(key, "").strip()
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        raise BadInput(f"{key}={text!r} in the project's settings is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise BadInput(f"{key}={text!r} in the project's settings must be a positive number")
    return number
