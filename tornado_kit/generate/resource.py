"""`tkit generate resource NAME FIELD:TYPE...`: a table (tables.py and an Alembic migration), query functions,
a JSON API, HTML pages and tests, all built on the project's SQLAlchemy Core data layer."""

from __future__ import annotations

import ast
import secrets
from pathlib import Path
from typing import Any

from tornado_kit.errors import BadInput, TkitError
from tornado_kit.generate.fields import Field, parse_fields
from tornado_kit.generate.generators import Edit, Features, Generation, render_generator, route
from tornado_kit.generate.names import GeneratedName
from tornado_kit.generate.urlmap import UrlMap
from tornado_kit.project import Project

ID = "([0-9]{1,18})"
VALID = {"str": "Sample", "text": "A longer text.", "int": 42, "float": 1.5, "bool": True}
OTHER = {"str": "Changed", "text": "Changed text.", "int": -7, "float": 2.25, "bool": False}
WRONG = {"str": 5, "text": ["a list"], "int": "many", "float": "much", "bool": "yes", "date": "31/01/2024"}
MAX_LINE = 120  # the generated project's ruff line length


def generate_resource(
    project: Project, features: Features, n: GeneratedName, url_map: UrlMap, *, fields: tuple[str, ...], public: bool
) -> Generation:
    """Every file of the resource, the URL-map lines, and the edit to tables.py."""
    parsed = parse_fields(fields)
    package = project.root / project.package
    tables_path = package / "tables.py"
    versions = project.root / "migrations" / "versions"
    if not tables_path.is_file() or not versions.is_dir():
        raise TkitError(
            f"a resource needs {project.package}/tables.py and migrations/versions/ (SQLAlchemy and Alembic);"
            " this project has no such data layer"
        )
    tables = tables_path.read_text(encoding="utf-8")
    if _table_names(tables) & {n.plural, n.singular}:
        raise BadInput(f"cannot generate resource {n.singular!r}: tables.py already has a table {n.plural!r}")
    login = features.auth and not public
    revision, down_revision = secrets.token_hex(6), migration_head(versions)
    context = resource_context(project, n, parsed, login=login)
    context.update(revision=revision, down_revision=down_revision)
    files = [f for f in render_generator("resource", context)]
    generation = Generation(files=files, imports=[_import_line(n)], routes=_routes(n, url_map))
    generation.migration = next(str(f.path) for f in files if f.path.parts[0] == "migrations")
    _edit_tables(generation, project, tables, n, parsed, login=login)
    return generation


def resource_context(project: Project, n: GeneratedName, fields: list[Field], *, login: bool) -> dict[str, Any]:
    """What the resource templates are rendered with, including the tests' sample values."""
    kinds = {field.kind for field in fields}
    required = [field.name for field in fields if not field.optional]
    datetime_names = [
        name for name, kind in (("UTC", "datetime"), ("date", "date"), ("datetime", "datetime")) if kind in kinds
    ]
    return {
        "package": project.package,
        "n": n,
        "login": login,
        "fields": fields,
        "kinds": kinds,
        "datetime_names": ", ".join(datetime_names),
        "required_literal": "frozenset({" + ", ".join(f'"{name}"' for name in required) + "})"
        if required
        else "frozenset[str]()",
        "required_list": required,
        "valid": {field.name: _sample(field, VALID) for field in fields},
        "other": {field.name: _sample(field, OTHER) for field in fields},
        "wrong": {field.name: WRONG.get(field.kind, "yesterday") for field in fields},
        "too_long": {
            field.name: f'"x" * {(field.length or 10_000) + 1}' for field in fields if field.kind in ("str", "text")
        },
        "form": {field.name: _form_value(field) for field in fields},
        "form_error_field": next((field.name for field in fields if field.kind != "bool"), None),
        "display": _display,
    }


def _sample(field: Field, values: dict[str, Any]) -> Any:
    if field.kind == "date":
        return "2024-01-31" if values is VALID else "2025-12-24"
    if field.kind == "datetime":
        return "2024-01-31T12:30:00+00:00" if values is VALID else "2025-12-24T08:05:00+00:00"
    value = values[field.kind]
    return value[: field.length] if isinstance(value, str) and field.length else value


def _form_value(field: Field) -> str:
    value = _sample(field, VALID)
    if field.kind == "bool":
        return "on"
    if field.kind == "datetime":
        return str(value)[:16]
    return str(value)


def _display(field: Field) -> str:
    """How a page shows one field of `record` (a Tornado template expression; escaped by autoescape)."""
    value = f'record["{field.name}"]'
    if field.kind == "bool":
        return "{{ " + f'"" if {value} is None else "yes" if {value} else "no"' + " }}"
    return "{{ " + f'"" if {value} is None else {value}' + " }}"


def _import_line(n: GeneratedName) -> str:
    names = [
        f"{n.class_name}ApiHandler",
        f"{n.class_name}PageHandler",
        f"Delete{n.class_name}PageHandler",
        f"Edit{n.class_name}PageHandler",
        f"New{n.class_name}PageHandler",
        f"{n.plural_class}ApiHandler",
        f"{n.plural_class}PageHandler",
    ]
    line = f"from .handlers.{n.plural} import {', '.join(sorted(names))}"
    if len(line) <= MAX_LINE:
        return line
    inner = "".join(f"    {name},\n" for name in sorted(names))
    return f"from .handlers.{n.plural} import (\n{inner})"


def _routes(n: GeneratedName, url_map: UrlMap) -> list[str]:
    plural, singular = n.plural_slug, n.slug
    return [
        route(f"/{plural}", f"{n.plural_class}PageHandler", plural, url_map),
        route(f"/{plural}/new", f"New{n.class_name}PageHandler", f"new-{singular}", url_map),
        route(f"/{plural}/{ID}", f"{n.class_name}PageHandler", singular, url_map),
        route(f"/{plural}/{ID}/edit", f"Edit{n.class_name}PageHandler", f"edit-{singular}", url_map),
        route(f"/{plural}/{ID}/delete", f"Delete{n.class_name}PageHandler", f"delete-{singular}", url_map),
        route(f"/api/{plural}", f"{n.plural_class}ApiHandler", f"api-{plural}", url_map),
        route(f"/api/{plural}/{ID}", f"{n.class_name}ApiHandler", f"api-{singular}", url_map),
    ]


def _table_names(source: str) -> set[str]:
    """Module-level names and Table("name", ...) names in tables.py."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Table" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.add(first.value)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def migration_head(versions: Path) -> str | None:
    """The revision the new migration follows: the one head of migrations/versions/."""
    revisions: dict[str, tuple[str, ...]] = {}
    for path in sorted(versions.glob("*.py")):
        values = _module_strings(path)
        if isinstance(values.get("revision"), str):
            down = values.get("down_revision")
            revisions[values["revision"]] = tuple(down) if isinstance(down, tuple | list) else (down,) if down else ()
    referenced = {down for downs in revisions.values() for down in downs}
    heads = sorted(set(revisions) - referenced)
    if len(heads) > 1:
        raise TkitError(
            f"migrations/versions/ has {len(heads)} heads ({', '.join(heads)}); merge them first (alembic merge heads)"
        )
    return heads[0] if heads else None


def _module_strings(path: Path) -> dict[str, Any]:
    """Module-level `name = literal` and `name: type = literal` assignments of a migration."""
    values: dict[str, Any] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign):
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name):
            try:
                values[target.id] = ast.literal_eval(value)
            except ValueError:
                continue
    return values


def _edit_tables(
    generation: Generation, project: Project, tables: str, n: GeneratedName, fields: list[Field], *, login: bool
) -> None:
    """Import the column types the table needs into tables.py, and append the Table."""
    path = f"{project.package}/tables.py"
    needed = {"Column", "Table", "Integer", "Float", *(field.type_name for field in fields)}
    if login:
        needed |= {"ForeignKey", "Index"}
    statement = _sqlalchemy_import(tables)
    if statement is None:
        raise TkitError(f"{path} has no `from sqlalchemy import ...` line to add the column types to")
    old, names = statement
    if needed - names:
        generation.edits.append(Edit(path, _import_statement(names | needed), old))
    generation.edits.append(Edit(path, table_block(n, fields, login=login), ""))


def table_block(n: GeneratedName, fields: list[Field], *, login: bool) -> str:
    """The Table definition appended to tables.py."""
    lines = [
        "",
        "",
        f"{n.plural} = Table(",
        f'    "{n.plural}",',
        "    metadata,",
        '    Column("id", Integer, primary_key=True),',
    ]
    if login:
        lines.append('    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),')
    lines += [f'    Column("{f.name}", {f.column_type}, nullable={f.optional}),' for f in fields]
    lines += ['    Column("created_at", Float, nullable=False),', '    Column("updated_at", Float, nullable=False),']
    if login:
        lines.append(f'    Index("{n.plural}_user", "user_id", "id"),')
    return "\n".join([*lines, ")", ""])


def _sqlalchemy_import(source: str) -> tuple[str, set[str]] | None:
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "sqlalchemy" and node.level == 0:
            assert node.end_lineno is not None
            text = "".join(lines[node.lineno - 1 : node.end_lineno])
            return text, {alias.name for alias in node.names}
    return None


def _import_statement(names: set[str]) -> str:
    """`from sqlalchemy import ...` sorted as ruff's isort does (classes before functions), wrapped past 120."""
    ordered = sorted(names, key=lambda name: (0 if name.isupper() else 1 if name[0].isupper() else 2, name))
    line = f"from sqlalchemy import {', '.join(ordered)}\n"
    if len(line) <= MAX_LINE + 1:
        return line
    return "from sqlalchemy import (\n" + "".join(f"    {name},\n" for name in ordered) + ")\n"
