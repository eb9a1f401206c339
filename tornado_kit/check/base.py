"""The check registry: each check is a small function registered with a stable id, level and hint."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tornado_kit.check.context import CheckContext


class Level(enum.IntEnum):
    """How bad a finding is; `--fail-level` compares against these."""

    INFO = 10
    WARNING = 20
    ERROR = 30

    @property
    def label(self) -> str:
        """Lower-case name used on the command line and in the report."""
        return self.name.lower()


@dataclass(frozen=True)
class Finding:
    """One problem found: stable id, level, one-line message, one-line hint."""

    id: str
    level: Level
    message: str
    hint: str


CheckFunction = Callable[["CheckContext"], Iterable[str]]


@dataclass(frozen=True)
class Check:
    """A registered check: yields one message per problem found."""

    id: str
    level: Level
    hint: str
    deploy: bool
    function: CheckFunction

    def run(self, context: CheckContext) -> list[Finding]:
        """The findings of this check on `context`."""
        return [Finding(self.id, self.level, message, self.hint) for message in self.function(context)]


REGISTRY: dict[str, Check] = {}


def register(
    check_id: str, level: Level, hint: str, *, deploy: bool = False
) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check under a stable id; `deploy=True` runs it only with `tkit check --deploy`."""

    def decorate(function: CheckFunction) -> CheckFunction:
        if check_id in REGISTRY:
            raise ValueError(f"check id {check_id} registered twice")
        REGISTRY[check_id] = Check(check_id, level, hint, deploy, function)
        return function

    return decorate
