"""The dev server's control messages and app-process states, named once (as hupper names its ControlSignals).

Every pipe and socket between the parent, the fork server and the app processes carries one line per
message: the signal's name, then its fields separated by single spaces. The last field of a message may
hold spaces (a path); no field may hold a newline. Who sends what:

- parent -> fork server (control pipe): `fork GEN`
- fork server -> standby app process (go pipe): `go GEN`
- fork server and app processes -> parent (events pipe): `forked GEN PID`, `ready GEN PID ok|broken MS`,
  `exit PID STATUS`
- app processes -> fork server (warm-up pipe): `mod NAME` (preload it), `src PATH` (compile it)
- live reload, parent <-> app processes (a Unix socket): `hello PID` and `tabs COUNT` up; `css PATH`
  (swap that stylesheet in place) and `reload PATH` (reload the page) down
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Signal(StrEnum):
    """The name that starts each message."""

    FORK = "fork"
    GO = "go"
    FORKED = "forked"
    READY = "ready"
    EXIT = "exit"
    MOD = "mod"
    SRC = "src"
    HELLO = "hello"
    TABS = "tabs"
    CSS = "css"
    RELOAD = "reload"


class ProcessState(StrEnum):
    """An app process as the parent sees it: starting -> serving -> stopping."""

    STARTING = "starting"
    SERVING = "serving"
    STOPPING = "stopping"


class Health(StrEnum):
    """How an app process came up: its own app, or the error page because the code is broken."""

    OK = "ok"
    BROKEN = "broken"


FIELDS: dict[Signal, int] = {
    Signal.FORK: 1,
    Signal.GO: 1,
    Signal.FORKED: 2,
    Signal.READY: 4,
    Signal.EXIT: 2,
    Signal.MOD: 1,
    Signal.SRC: 1,
    Signal.HELLO: 1,
    Signal.TABS: 1,
    Signal.CSS: 1,
    Signal.RELOAD: 1,
}


@dataclass(frozen=True)
class Message:
    """One decoded line: a signal and its fields as text; `number(i)` reads an integer field."""

    signal: Signal
    fields: tuple[str, ...]

    def number(self, index: int) -> int:
        """Field `index` as an int (decode has checked that the integer fields are integers)."""
        return int(self.fields[index])


INTEGER_FIELDS: dict[Signal, tuple[int, ...]] = {
    Signal.FORK: (0,),
    Signal.GO: (0,),
    Signal.FORKED: (0, 1),
    Signal.READY: (0, 1),
    Signal.EXIT: (0, 1),
    Signal.HELLO: (0,),
    Signal.TABS: (0,),
}


def encode(signal: Signal, *fields: object) -> bytes:
    """One message as a line of bytes; ValueError if a field would break the line apart."""
    texts = [str(value) for value in fields]
    if len(texts) != FIELDS[signal]:
        raise ValueError(f"{signal} takes {FIELDS[signal]} fields, got {len(texts)}")
    if any("\n" in text or "\r" in text for text in texts) or any(" " in text for text in texts[:-1]):
        raise ValueError(f"a {signal} field holds a line break or an inner space: {texts!r}")
    return " ".join((signal.value, *texts)).encode("utf-8", "surrogateescape") + b"\n"


def decode(line: bytes) -> Message | None:
    """Parse one line (with or without its newline); None for anything malformed, which callers drop."""
    text = line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")
    name, _, rest = text.partition(" ")
    try:
        signal = Signal(name)
    except ValueError:
        return None
    count = FIELDS[signal]
    fields = tuple(rest.split(" ", count - 1)) if rest else ()
    if len(fields) != count or not all(fields):
        return None
    if not all(_is_int(fields[i]) for i in INTEGER_FIELDS.get(signal, ())):
        return None
    if signal is Signal.READY and not _is_ready_state(fields[2], fields[3]):
        return None
    return Message(signal, fields)


def split_lines(buffer: bytes, data: bytes) -> tuple[list[Message], bytes]:
    """Add `data` to what was left over; return the complete messages and the new remainder."""
    *lines, rest = (buffer + data).split(b"\n")
    return [message for message in map(decode, lines) if message is not None], rest


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _is_ready_state(health: str, took_ms: str) -> bool:
    try:
        float(took_ms)
    except ValueError:
        return False
    return health in (Health.OK.value, Health.BROKEN.value)
