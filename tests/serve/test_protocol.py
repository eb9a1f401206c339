"""The dev server's control messages: one encode, one decode, malformed lines dropped."""

from __future__ import annotations

import pytest

from tornado_kit.serve.protocol import FIELDS, Health, Signal, decode, encode, split_lines


@pytest.mark.parametrize(
    ("signal", "fields"),
    [
        (Signal.FORK, (3,)),
        (Signal.GO, (7,)),
        (Signal.FORKED, (3, 4242)),
        (Signal.READY, (3, 4242, Health.BROKEN, 12.5)),
        (Signal.EXIT, (4242, -9)),
        (Signal.MOD, ("sqlalchemy.orm",)),
        (Signal.SRC, ("/home/me/my site/app.py",)),
        (Signal.CSS, ("mysite/static/a b.css",)),
        (Signal.TABS, (2,)),
    ],
)
def test_every_message_survives_a_round_trip(signal: Signal, fields: tuple[object, ...]) -> None:
    line = encode(signal, *fields)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    message = decode(line)
    assert message is not None
    assert message.signal is signal
    assert message.fields == tuple(str(value) for value in fields)


def test_every_signal_has_a_field_count() -> None:
    assert set(FIELDS) == set(Signal)


@pytest.mark.parametrize(
    "line",
    [b"", b"fork", b"fork x", b"fork 1 2", b"launch 1", b"ready 1 2 fine 3.0", b"ready 1 2 ok soon", b"exit 12"],
)
def test_malformed_lines_are_dropped(line: bytes) -> None:
    assert decode(line) is None


def test_a_field_that_would_split_the_line_is_refused() -> None:
    with pytest.raises(ValueError, match="line break"):
        encode(Signal.SRC, "/tmp/evil\nfork 9")
    with pytest.raises(ValueError, match="takes 2 fields"):
        encode(Signal.FORKED, 1)


def test_split_lines_keeps_a_partial_line_for_the_next_read() -> None:
    messages, rest = split_lines(b"for", b"k 1\nexit 5 0\nread")
    assert [m.signal for m in messages] == [Signal.FORK, Signal.EXIT]
    assert rest == b"read"
