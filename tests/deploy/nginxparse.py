"""A small nginx config parser for structural tests: directives and blocks, comments dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|#[^\n]*|[{};]|[^\s{};"\']+')


@dataclass
class Directive:
    """`name args;` or `name args { children }`."""

    name: str
    args: list[str]
    children: list[Directive] | None = None
    block: bool = field(default=False)

    def find(self, name: str) -> list[Directive]:
        """Direct children called `name`."""
        return [child for child in self.children or [] if child.name == name]

    def values(self, name: str) -> list[list[str]]:
        """The arguments of each direct child called `name`."""
        return [child.args for child in self.find(name)]


def parse(text: str) -> Directive:
    """Parse a whole file into a root Directive whose children are the top-level directives."""
    tokens = [t for t in TOKEN.findall(text) if not t.startswith("#")]
    root, position = _parse_block(tokens, 0)
    assert position == len(tokens), "unbalanced braces"
    return root


def _parse_block(tokens: list[str], position: int) -> tuple[Directive, int]:
    block = Directive("", [], [], True)
    words: list[str] = []
    while position < len(tokens):
        token = tokens[position]
        position += 1
        if token == ";":
            block.children.append(Directive(words[0], words[1:]))  # type: ignore[union-attr]
            words = []
        elif token == "{":
            child, position = _parse_block(tokens, position)
            child.name, child.args = words[0], words[1:]
            block.children.append(child)  # type: ignore[union-attr]
            words = []
        elif token == "}":
            return block, position
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    return block, position
