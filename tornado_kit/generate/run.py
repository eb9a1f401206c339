"""`tkit generate` and `tkit destroy` as library calls: check, plan, then write all-or-nothing (or only show)."""

from __future__ import annotations

import contextlib
from pathlib import Path, PurePosixPath
from typing import Literal

from tornado_kit.errors import BadInput, TargetExists
from tornado_kit.generate import manifest
from tornado_kit.generate.generators import Features, Generation, module_clashes, read_features
from tornado_kit.generate.names import GeneratedName, generated_name
from tornado_kit.generate.urlmap import UrlMap, UrlMapShape, add_to_url_map, read_url_map, remove_from_url_map
from tornado_kit.plan import FileAction, RenderedFile, classify
from tornado_kit.project import Project, find_project

Kind = Literal["page", "resource", "websocket"]
KINDS: tuple[Kind, ...] = ("page", "resource", "websocket")


class Outcome:
    """What a generate or destroy run did (or, with --dry-run, would do)."""

    def __init__(self, root: Path, notes: list[str] | None = None) -> None:
        self.root = root
        self.actions: list[FileAction] = []  # files created or changed
        self.changes: dict[str, tuple[str, str]] = {}  # path -> (before, after), for files edited in place
        self.deleted: list[str] = []
        self.kept: list[str] = []  # lines saying what was left in place and why
        self.notes: list[str] = notes or []
        self.written = False

    def diff(self, path: str) -> str | None:
        """The unified diff of a file edited in place (difflib is imported only to show one)."""
        if path not in self.changes:
            return None
        import difflib

        before, after = self.changes[path]
        return "".join(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{path}", f"b/{path}"))


def generate(
    kind: Kind,
    name: str,
    *,
    start: Path | None = None,
    plural: str | None = None,
    fields: tuple[str, ...] = (),
    public: bool = False,
    force: bool = False,
    dry_run: bool = False,
) -> Outcome:
    """Check NAME, render the new files, edit the URL map, and write it all (or nothing)."""
    project = find_project(start)
    n = generated_name(name, plural)
    features = read_features(project)
    urls_path = PurePosixPath(project.package, "urls.py")
    urls_source = (project.root / urls_path).read_text(encoding="utf-8")
    try:
        url_map: UrlMap | None = read_url_map(urls_source)
    except UrlMapShape:
        url_map = None  # reported with the lines to add by hand, once they are known
    generation = _build(kind, project, features, n, url_map or UrlMap(), public=public, fields=fields)
    _check_clashes(kind, project, n, url_map, generation)
    new_urls = add_to_url_map(urls_source, generation.imports, generation.routes)
    changed = {str(urls_path): (urls_source, new_urls)}
    for edit in generation.edits:
        before = changed[edit.path][1] if edit.path in changed else (project.root / edit.path).read_text("utf-8")
        original = changed[edit.path][0] if edit.path in changed else before
        changed[edit.path] = (original, edit.apply(before))
    entry = manifest.Entry(
        files={str(f.path): manifest.digest(f.content) for f in generation.files},
        imports=generation.imports,
        routes=generation.routes,
        edits=[[edit.path, edit.new, edit.old] for edit in generation.edits],
        migration=generation.migration,
    )
    entries = manifest.load(project.root)
    entries[manifest.key(kind, n.singular)] = entry
    outcome = Outcome(project.root, notes=generation.notes)
    for file in generation.files:
        outcome.actions.append(_action(project.root, file.path, file.content, file.mode))
    _refuse_overwrites(outcome.actions, force)
    _add_changes(outcome, changed)
    outcome.actions.append(_action(project.root, manifest.MANIFEST, manifest.dump(entries), 0o644))
    return _finish(outcome, dry_run)


def _build(
    kind: Kind,
    project: Project,
    features: Features,
    n: GeneratedName,
    url_map: UrlMap,
    *,
    public: bool,
    fields: tuple[str, ...],
) -> Generation:
    from tornado_kit.generate import generators

    if kind == "page":
        return generators.generate_page(project, features, n, url_map, public=public)
    if kind == "websocket":
        return generators.generate_websocket(project, features, n, url_map, public=public)
    from tornado_kit.generate.resource import generate_resource

    return generate_resource(project, features, n, url_map, fields=fields, public=public)


def _check_clashes(
    kind: Kind, project: Project, n: GeneratedName, url_map: UrlMap | None, generation: Generation
) -> None:
    """Exit 2 before writing anything when NAME is taken: a module, a route, a route name, a class or a table."""
    if manifest.key(kind, n.singular) in manifest.load(project.root):
        raise BadInput(f"{kind} {n.singular!r} was already generated here; `tkit destroy {kind} {n.singular}` first")
    reason = module_clashes(project, n, generation.files)
    if reason is None and url_map is not None:
        reason = _url_map_clash(url_map, generation)
    if reason is not None:
        raise BadInput(f"cannot generate {kind} {n.singular!r}: {reason}")


def _url_map_clash(url_map: UrlMap, generation: Generation) -> str | None:
    import ast

    for text in generation.routes:
        call = ast.parse(text, mode="eval").body
        assert isinstance(call, ast.Call)
        path = ast.literal_eval(call.args[0])
        handler = ast.unparse(call.args[1])
        route_name = next(ast.literal_eval(k.value) for k in call.keywords if k.arg == "name")
        if path in url_map.paths:
            return f"the URL map already has a route for {path}"
        if route_name in url_map.route_names:
            return f"the URL map already has a route named {route_name!r}"
        if handler in url_map.names:
            return f"the URL map already uses the name {handler}"
    return None


def _action(root: Path, path: PurePosixPath, content: bytes, mode: int) -> FileAction:
    return classify(root, RenderedFile(path, content, mode), force=True)  # overwrites refused below without --force


def _refuse_overwrites(actions: list[FileAction], force: bool) -> None:
    conflicts = [str(a.path) for a in actions if a.verb == "conflict"]
    if conflicts:
        raise TargetExists(f"cannot write {', '.join(conflicts)}: something other than a file is in the way")
    existing = [str(a.path) for a in actions if a.verb == "overwrite"]
    if existing and not force:
        raise TargetExists(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; use --force to overwrite"
        )


def _add_changes(outcome: Outcome, changed: dict[str, tuple[str, str]]) -> None:
    """Existing files edited in place (the URL map, pyproject.toml, ...); their diffs are made on demand."""
    for path, (before, after) in changed.items():
        outcome.actions.append(_action(outcome.root, PurePosixPath(path), after.encode("utf-8"), 0o644))
        outcome.changes[path] = (before, after)


def _finish(outcome: Outcome, dry_run: bool) -> Outcome:
    if dry_run:
        return outcome
    from tornado_kit.generate.apply import apply_changes

    apply_changes(outcome.root, [a for a in outcome.actions if a.verb in ("create", "overwrite")], outcome.deleted)
    outcome.written = True
    with contextlib.suppress(OSError):
        (outcome.root / manifest.MANIFEST).parent.rmdir()  # only when destroy emptied it
    return outcome


def destroy(kind: Kind, name: str, *, start: Path | None = None, dry_run: bool = False) -> Outcome:
    """Take out what `generate` added: unchanged files and its URL-map lines; keep (and list) the rest."""
    project = find_project(start)
    entries = manifest.load(project.root)
    entry = entries.pop(manifest.key(kind, name), None)
    if entry is None:
        raise BadInput(f"no {kind} {name!r} was generated in this project (see {manifest.MANIFEST})")
    outcome = Outcome(project.root)
    for path, digest in sorted(entry.files.items()):
        _destroy_file(outcome, path, digest, entry.migration, project.package)
    urls_path = f"{project.package}/urls.py"
    source = (project.root / urls_path).read_text(encoding="utf-8")
    new_source, missing = remove_from_url_map(source, entry.imports, entry.routes)
    outcome.kept += [f"{urls_path}: not found, so left alone: {line}" for line in missing]
    changed = {urls_path: (source, new_source)} if new_source != source else {}
    others_of_kind = [key for key in entries if key.startswith(f"{kind} ")]
    for path, added, original in reversed(entry.edits):
        if path == "pyproject.toml" and others_of_kind:  # the /ws/ prefix: another websocket still needs it
            outcome.notes.append(f"pyproject.toml: kept {added.strip()}, which {others_of_kind[0]} needs")
            continue
        _take_out(project.root, path, added, original, changed, outcome)
    _add_changes(outcome, changed)
    if entries:
        outcome.actions.append(_action(project.root, manifest.MANIFEST, manifest.dump(entries), 0o644))
    else:
        outcome.deleted.append(str(manifest.MANIFEST))  # the last one: leave no trace
    return _finish(outcome, dry_run)


def _destroy_file(outcome: Outcome, path: str, digest: str, migration: str | None, package: str) -> None:
    target = outcome.root / path
    if path == migration:
        outcome.kept.append(
            f"{path}: kept, the migration may have run; if it did, add one that undoes it"
            f' (python -m {package} makemigrations "drop ..."), else delete the file'
        )
    elif not target.is_file():
        outcome.notes.append(f"{path} was already removed")
    elif manifest.digest(target.read_bytes()) != digest:
        outcome.kept.append(f"{path}: kept, changed since it was generated")
    else:
        outcome.deleted.append(path)


def narrowed_import(source: str, added: str, original: str) -> str:
    """`added` (an import statement) without the names `original` lacked that `source` no longer uses."""
    import ast

    def names(statement: str) -> list[str]:
        node = ast.parse(statement).body[0]
        return [alias.name for alias in node.names] if isinstance(node, ast.ImportFrom) else []

    used = {node.id for node in ast.walk(ast.parse(source.replace(added, ""))) if isinstance(node, ast.Name)}
    keep = [name for name in names(added) if name in names(original) or name in used]
    return original if set(keep) == set(names(original)) else added.replace(added, _same_style(added, keep))


def _same_style(statement: str, names: list[str]) -> str:
    module = statement.split(" import ")[0]
    line = f"{module} import {', '.join(names)}\n"
    return line if len(line) <= 121 else f"{module} import (\n" + "".join(f"    {name},\n" for name in names) + ")\n"


def _take_out(
    root: Path, path: str, added: str, original: str, changed: dict[str, tuple[str, str]], outcome: Outcome
) -> None:
    """Put back what an edit replaced, if the text it added is still there exactly once. An import it widened
    loses only the names it added that nothing uses any more (a later generator may use the others)."""
    current = changed[path][1] if path in changed else (root / path).read_text(encoding="utf-8")
    if added.startswith("from ") and original.startswith("from ") and added in current:
        first = changed[path][0] if path in changed else current
        changed[path] = (first, current.replace(added, narrowed_import(current, added, original), 1))
        return
    if current.count(added) < 1 or (not original and current.count(added) != 1):
        outcome.kept.append(f"{path}: changed since, so left alone; take out by hand: {added.strip()}")
        return
    first = changed[path][0] if path in changed else current
    changed[path] = (first, current.replace(added, original, 1))
