"""Read a project's `.env` file the way the generated app does, for the commands that must agree with it."""

from __future__ import annotations


def parse_env_text(text: str) -> dict[str, str]:
    """KEY=VALUE lines; blanks, `#` comments and a leading `export ` are skipped, quotes around values removed."""
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values
