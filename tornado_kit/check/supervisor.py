"""Read supervisor program sections the way supervisord does: `%(process_num)d` expansion, numprocs,
`%%` escapes, `environment=KEY="value",KEY2=value` lists. Tolerant of hand-written files."""

from __future__ import annotations

import configparser
import os
import re
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path

from tornado_kit.errors import TkitError

PROGRAM_PREFIXES = ("program:", "fcgi-program:")
# Options whose value is a path or a command line: a '#' right after whitespace there is part of a path that
# supervisor cuts off as a comment (`directory=/srv/my #site` becomes /srv/my), not a note someone wrote.
PATH_OPTIONS = ("command", "directory", "stdout_logfile", "stderr_logfile", "environment")
CUT_PATH = re.compile(r"\s#\S")


class SupervisorSyntaxError(TkitError):
    """The file is not a readable supervisor ini file."""


@dataclass(frozen=True)
class Process:
    """One process supervisord would start from a program section."""

    program: str
    path: Path
    command: str
    options: dict[str, str]
    environment: dict[str, str]

    @property
    def argv(self) -> list[str]:
        """The command split like a shell would (supervisord uses shlex too)."""
        try:
            return shlex.split(self.command)
        except ValueError:
            return self.command.split()

    def option_value(self, flag: str) -> str | None:
        """The value given to `--flag VALUE` or `--flag=VALUE` on the command line."""
        argv = self.argv
        for index, word in enumerate(argv):
            if word == flag and index + 1 < len(argv):
                return argv[index + 1]
            if word.startswith(flag + "="):
                return word.split("=", 1)[1]
        return None


def parse_environment(value: str) -> dict[str, str]:
    """Parse supervisor's `KEY="v",KEY2=v2` environment list."""
    lexer = shlex.shlex(value, posix=True, punctuation_chars=False)
    lexer.whitespace = ","
    lexer.whitespace_split = True
    result: dict[str, str] = {}
    try:
        pairs = list(lexer)
    except ValueError:
        pairs = value.split(",")
    for pair in pairs:
        key, sep, item = pair.strip().partition("=")
        if sep:
            result[key.strip()] = item.strip()
    return result


def expand(text: str, variables: dict[str, object]) -> str:
    """Apply supervisor's %-expansion; leave the text alone when it is not well formed."""
    try:
        return text % variables
    except (KeyError, ValueError, TypeError):
        return text.replace("%%", "%")


def whole_number(text: str | None, default: int) -> int:
    """An option's integer value, or `default` when it is absent or not a number."""
    return int(text) if text and text.strip().isdecimal() else default


def section_processes(parser: configparser.RawConfigParser, section: str, path: Path) -> list[Process]:
    """The processes a `[program:x]` section starts (one per numprocs)."""
    options = {key: value.strip() for key, value in parser.items(section)}
    name = section.split(":", 1)[1]
    numprocs = whole_number(options.get("numprocs"), 1)
    start = whole_number(options.get("numprocs_start"), 0)
    processes = []
    for number in range(start, start + min(numprocs, 256)):
        variables: dict[str, object] = {f"ENV_{key}": value for key, value in os.environ.items()}
        variables.update(
            program_name=name,
            group_name=name,
            process_num=number,
            here=str(path.parent),
            host_node_name=socket.gethostname(),
        )
        expanded = {key: expand(value, variables) for key, value in options.items()}
        processes.append(
            Process(
                name, path, expanded.get("command", ""), expanded, parse_environment(expanded.get("environment", ""))
            )
        )
    return processes


def load_supervisor(path: Path) -> list[Process]:
    """Every process the program sections of `path` would start."""
    parser = configparser.RawConfigParser(strict=False, inline_comment_prefixes=(";", "#"))
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (OSError, UnicodeDecodeError, configparser.Error) as exc:
        raise SupervisorSyntaxError(f"cannot read {path.name}: {exc}") from exc
    processes: list[Process] = []
    for section in parser.sections():
        if section.startswith(PROGRAM_PREFIXES):
            processes.extend(section_processes(parser, section, path))
    return processes


def comment_cuts(path: Path) -> list[str]:
    """`[section] key=value` lines of program sections whose path or command supervisor cuts at ` #`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []  # load_supervisor reports it
    section, found = "", []
    for number, line in enumerate(lines, 1):
        stripped = line.strip()
        if stripped.startswith("["):
            section = stripped.strip("[]")
            continue
        key, _, value = (part.strip() for part in stripped.partition("="))
        cut = CUT_PATH.search(value) if section.startswith(PROGRAM_PREFIXES) and key in PATH_OPTIONS else None
        if cut:
            found.append(f"{path.name}:{number} [{section}] {key}= is cut at ' #' to {value[: cut.start()]!r}")
    return found
