"""A tolerant nginx config parser: directives with arguments and nested blocks, line numbers kept.

It reads real files, not only ours: comments, quoted strings with escapes, `${var}`, blocks of
any name. Unbalanced braces raise NginxSyntaxError (a check reports it; nothing crashes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tornado_kit.errors import TkitError

NGINX_CONF_DIR = Path("/etc/nginx")
MAX_INCLUDE_DEPTH = 5
# Real configs nest a few blocks (http, server, location, if); a file nested thousands deep is refused as a
# syntax error instead of exhausting the recursion of the checks that walk it.
MAX_NESTING = 64


class NginxSyntaxError(TkitError):
    """The file is not valid nginx syntax (unbalanced braces, a missing `;`)."""


@dataclass
class Directive:
    """`name arg...;` or `name arg... { block }`."""

    name: str
    args: list[str]
    line: int
    block: list[Directive] | None = None
    parent: Directive | None = field(default=None, repr=False, compare=False)

    def children(self, name: str) -> list[Directive]:
        """Direct children called `name`."""
        return [child for child in self.block or [] if child.name == name]

    def walk(self) -> Iterator[Directive]:
        """This directive and everything inside it, depth first."""
        yield self
        for child in self.block or []:
            yield from child.walk()


def tokenize(text: str) -> Iterator[tuple[str, int, bool]]:
    """Yield (token, line, quoted); `{`, `}` and `;` are tokens of their own."""
    i, line, length = 0, 1, len(text)
    while i < length:
        char = text[i]
        if char == "\n":
            line += 1
        if char.isspace():
            i += 1
        elif char == "#":
            while i < length and text[i] != "\n":
                i += 1
        elif char in "{};":
            yield char, line, False
            i += 1
        elif char in "\"'":
            token, i, line_count = read_quoted(text, i)
            yield token, line, True
            line += line_count
        else:
            start = i
            while (
                i < length and not text[i].isspace() and text[i] not in "{};\"'" and not (text[i] == "#" and i == start)
            ):
                i += 2 if text[i] == "\\" else 1
                if text[i - 1] == "$" and i < length and text[i] == "{":
                    i = text.find("}", i) + 1 or length
            yield text[start:i], line, False


def read_quoted(text: str, start: int) -> tuple[str, int, int]:
    """Read a quoted string at `start`; return (value, index after it, newlines inside)."""
    quote, i, value = text[start], start + 1, []
    while i < len(text) and text[i] != quote:
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in "\"'\\":
            i += 1  # nginx unescapes only quotes and backslashes; `\d` in a regex stays as written
        value.append(text[i])
        i += 1
    if i >= len(text):
        raise NginxSyntaxError(f"unterminated string starting with {text[start : start + 20]!r}")
    joined = "".join(value)
    return joined, i + 1, joined.count("\n")


def parse_nginx(text: str) -> list[Directive]:
    """Parse a config (a whole nginx.conf or an included fragment) into top-level directives."""
    root = Directive("", [], 0, [])
    stack, words, first_line = [root], [], 0
    for token, line, quoted in tokenize(text):
        if quoted or token not in "{};":
            first_line = first_line or line
            words.append(token)
            continue
        if token == "}":
            if words or len(stack) == 1:
                raise NginxSyntaxError(f"line {line}: unexpected '}}'")
            stack.pop()
            continue
        if not words:
            raise NginxSyntaxError(f"line {line}: unexpected {token!r}")
        directive = Directive(words[0], words[1:], first_line, [] if token == "{" else None, stack[-1])
        assert stack[-1].block is not None
        stack[-1].block.append(directive)
        if token == "{":
            stack.append(directive)
            if len(stack) - 1 > MAX_NESTING:  # the root is on the stack too
                raise NginxSyntaxError(f"line {line}: blocks nested more than {MAX_NESTING} deep")
        words, first_line = [], 0
    if words or len(stack) != 1:
        raise NginxSyntaxError("unexpected end of file: a '}' or ';' is missing")
    return root.block or []


@dataclass
class NginxFile:
    """A parsed nginx file with its path (for messages)."""

    path: Path
    directives: list[Directive]

    def walk(self) -> Iterator[Directive]:
        """Every directive in the file."""
        for directive in self.directives:
            yield from directive.walk()

    def where(self, directive: Directive) -> str:
        """`file:line` for messages."""
        return f"{self.path.name}:{directive.line}"


def load_nginx(path: Path, include_dirs: tuple[Path, ...] = (NGINX_CONF_DIR,)) -> NginxFile:
    """Read and parse one nginx file, with its `include`s inlined where the files can be found."""
    directives = read_directives(path)
    expand_includes(directives, None, (path.parent, *include_dirs), MAX_INCLUDE_DEPTH)
    return NginxFile(path, directives)


def read_directives(path: Path) -> list[Directive]:
    """Parse one file; errors name the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise NginxSyntaxError(f"cannot read {path}: {exc}") from exc
    try:
        return parse_nginx(text)
    except NginxSyntaxError as exc:
        raise NginxSyntaxError(f"{path.name}: {exc.message}") from None


def expand_includes(block: list[Directive], parent: Directive | None, bases: tuple[Path, ...], depth: int) -> None:
    """Replace `include x;` by the directives of x (like nginx), where x exists; recurse into blocks."""
    index = 0
    while index < len(block):
        directive = block[index]
        found = include_targets(directive, bases) if directive.name == "include" and depth > 0 else []
        if found:
            inlined = [d for path in found for d in read_directives(path)]
            for child in inlined:
                child.parent = parent
            expand_includes(inlined, parent, bases, depth - 1)
            block[index : index + 1] = inlined
            index += len(inlined)
            continue
        if directive.block is not None:
            expand_includes(directive.block, directive, bases, depth)
        index += 1


def include_targets(directive: Directive, bases: tuple[Path, ...]) -> list[Path]:
    """The files an include names (globs too), looked up against each base folder in turn."""
    if not directive.args or "$" in directive.args[0]:
        return []
    pattern = directive.args[0]
    for base in bases:
        candidate = Path(pattern) if Path(pattern).is_absolute() else base / pattern
        matches = (
            sorted(candidate.parent.glob(candidate.name)) if any(c in candidate.name for c in "*?[") else [candidate]
        )
        files = [path for path in matches if path.is_file()]
        if files:
            return files
    return []
