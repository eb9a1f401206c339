"""Resource fields: `name:TYPE` with TYPE one of str(N), text, int, float, bool, date, datetime, and a trailing
`?` for an optional field. Parsed once, before anything is written; bad input is exit 2 with one line."""

from __future__ import annotations

import keyword
import re
from typing import NamedTuple

from tornado_kit.errors import BadInput

_FIELD = re.compile(r"(?P<name>[a-z][a-z0-9_]*):(?P<kind>str\((?P<length>[0-9]{1,6})\)|[a-z]+)(?P<optional>\?)?")
KINDS = ("str", "text", "int", "float", "bool", "date", "datetime")
MAX_STR_LENGTH = 10_000  # longer strings are `text`
RESERVED_FIELDS = frozenset({"id", "user_id", "created_at", "updated_at", "metadata"})
# SQLAlchemy Core type and Alembic's rendering of it, per kind (str gets its length).
COLUMN_TYPES = {
    "str": ("String({length})", "sa.String(length={length})"),
    "text": ("Text", "sa.Text()"),
    "int": ("Integer", "sa.Integer()"),
    "float": ("Float", "sa.Float()"),
    "bool": ("Boolean", "sa.Boolean()"),
    "date": ("Date", "sa.Date()"),
    "datetime": ("DateTime", "sa.DateTime()"),
}


class Field(NamedTuple):
    """One column of a generated resource."""

    name: str
    kind: str
    length: int | None = None  # for str
    optional: bool = False

    @property
    def label(self) -> str:
        """The name for people to read."""
        return self.name.replace("_", " ").capitalize()

    @property
    def column_type(self) -> str:
        """The SQLAlchemy type in tables.py."""
        return COLUMN_TYPES[self.kind][0].format(length=self.length)

    @property
    def type_name(self) -> str:
        """The name tables.py imports from sqlalchemy for this type."""
        return COLUMN_TYPES[self.kind][0].split("(")[0]

    @property
    def migration_type(self) -> str:
        """The type as Alembic renders it in a migration."""
        return COLUMN_TYPES[self.kind][1].format(length=self.length)


def parse_fields(specs: tuple[str, ...] | list[str]) -> list[Field]:
    """Every FIELD:TYPE, checked; BadInput naming the first bad one."""
    if not specs:
        raise BadInput("a resource needs at least one field, e.g. title:str(200)")
    fields: list[Field] = []
    for spec in specs:
        field = parse_field(spec)
        if any(other.name == field.name for other in fields):
            raise BadInput(f"field {field.name!r} is given twice")
        fields.append(field)
    return fields


def parse_field(spec: str) -> Field:
    """One FIELD:TYPE."""
    match = _FIELD.fullmatch(spec)
    if match is None:
        raise BadInput(
            f"invalid field {spec!r}: write name:TYPE with a lower-case name and TYPE one of"
            " str(N), text, int, float, bool, date, datetime (add ? for optional)"
        )
    name, kind, optional = match["name"], match["kind"], bool(match["optional"])
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in RESERVED_FIELDS or "__" in name:
        raise BadInput(f"invalid field {spec!r}: {name!r} is reserved; pick another name")
    if match["length"] is not None:
        length = int(match["length"])
        if not 1 <= length <= MAX_STR_LENGTH:
            raise BadInput(f"invalid field {spec!r}: str(N) needs N from 1 to {MAX_STR_LENGTH} (use text for more)")
        return Field(name, "str", length, optional)
    if kind not in KINDS:
        raise BadInput(
            f"invalid field {spec!r}: unknown type {kind!r} (str(N), text, int, float, bool, date, datetime)"
        )
    if kind == "str":
        raise BadInput(f"invalid field {spec!r}: give str a maximum length, e.g. str(200)")
    return Field(name, kind, None, optional)
