"""JSON sent by clients (request bodies, chat frames): what later code cannot handle is refused here, as
the client's fault, instead of failing deeper down as a 500.

`json.loads` accepts two such things: `"\ud800"` escapes give lone surrogates, which fail only when the
text is stored or sent on, and deep nesting (`[[[[...`) raises RecursionError rather than ValueError.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # nesting levels; the app's own JSON needs two


def loads_client_json(data: str | bytes) -> Any:
    """The parsed value; ValueError("is not valid JSON", ...: says what is wrong with it) if the app cannot use it."""
    try:
        value = json.loads(data)
    except RecursionError:
        raise ValueError(f"is nested more than {MAX_DEPTH} levels deep") from None
    except ValueError:  # UnicodeDecodeError too
        raise ValueError("is not valid JSON") from None
    _check(value)
    return value


def _check(value: Any) -> None:
    """Walk the value without recursion: bounded depth, strings that are real text (no lone surrogates)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not _is_text(item):
                raise ValueError("has a lone surrogate (\\ud800-\\udfff) in a string, which is not text")
        elif isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise ValueError(f"is nested more than {MAX_DEPTH} levels deep")
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
