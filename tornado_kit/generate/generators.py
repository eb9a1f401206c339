"""What each generator adds: new files rendered from templates/generate/<kind>/, and the lines for the URL map.

The templates use tkit's Jinja2 environment (`[[ ]]`, `[% %]`), so Tornado's own `{{ }}`/`{% %}` pass
through. In paths, `__package__` becomes the package, `__name__` the name and `__plural__` its plural.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from tornado_kit.errors import BadInput
from tornado_kit.generate.names import GeneratedName
from tornado_kit.generate.urlmap import UrlMap
from tornado_kit.plan import RenderedFile
from tornado_kit.project import Project
from tornado_kit.render import read_skeleton, render_template, skeleton_environment
from tornado_kit.templates import templates_root

DEFAULT_WEBSOCKET_PREFIX = "/ws/"


class Features(NamedTuple):
    """What the project was made with, read from its files (a project can outgrow its `tkit new` options)."""

    auth: bool  # accounts and sessions (accounts.py)
    rate_limiter: str | None  # the module of the project's RateLimiter (the chat's), if it has one
    client_json: bool  # jsontext.loads_client_json: JSON from clients with bounded depth
    services: bool  # handlers get a Services object from the URL map (services.py)
    room: bool  # Services has the chat's `room: ChatRoom` (chatroom.py): socket caps and per-user message budgets
    websocket_prefix: str | None  # the first of [tool.tkit] websocket-paths, if any


def read_features(project: Project) -> Features:
    """The features of the project on disk."""
    package = project.root / project.package
    return Features(
        auth=(package / "accounts.py").is_file(),
        rate_limiter=next(
            (m for m in ("chatroom", "chat") if _defines(package / f"{m}.py", "class RateLimiter")), None
        ),
        client_json=_defines(package / "jsontext.py", "def loads_client_json("),
        services=(package / "services.py").is_file(),
        room=_defines(package / "services.py", "room: ChatRoom")
        and _defines(package / "chatroom.py", "class ChatRoom"),
        websocket_prefix=project.websocket_paths[0] if project.websocket_paths else None,
    )


def _defines(module: Path, text: str) -> bool:
    try:
        return text in module.read_text(encoding="utf-8")
    except OSError:
        return False


class Edit(NamedTuple):
    """A change to an existing file other than the URL map: `old` (once) becomes `new`; an empty `old` appends."""

    path: str  # relative to the project root
    new: str
    old: str

    def apply(self, text: str) -> str:
        """`text` with the edit made."""
        if not self.old:
            return (text if text.endswith("\n") else text + "\n") + self.new
        return text.replace(self.old, self.new, 1)


class Generation:
    """Everything one generator run adds to the project."""

    def __init__(self, files: list[RenderedFile], imports: list[str], routes: list[str]) -> None:
        self.files = files
        self.imports = imports
        self.routes = routes
        self.edits: list[Edit] = []  # applied in order
        self.migration: str | None = None
        self.notes: list[str] = []


def route(path: str, handler: str, name: str, url_map: UrlMap) -> str:
    """One `url(...)` line in the URL map's own style (passing its shared objects when it has them)."""
    deps = f", {url_map.deps}" if url_map.deps else ""
    return f'url(r"{path}", {handler}{deps}, name="{name}")'


def render_generator(kind: str, context: dict[str, Any]) -> list[RenderedFile]:
    """Render templates/generate/<kind>/ with `context` (which has `package` and `n`, the GeneratedName)."""
    skeleton = templates_root() / "generate" / kind
    files = read_skeleton(skeleton)
    # Named generate/<kind>/...: compiled templates are cached by name, and the kinds share relative paths.
    env = skeleton_environment([(f"generate/{kind}/{path}", mode, content) for path, mode, content in files])
    rendered = []
    for path, mode, content in files:
        if path.endswith(".jinja"):
            content = render_template(env, f"generate/{kind}/{path}", context).encode("utf-8")
        target = _output_path(path, context["package"], context["n"], context.get("revision"))
        rendered.append(RenderedFile(target, content, mode))
    return rendered


def _output_path(path: str, package: str, n: GeneratedName, context_revision: str | None) -> PurePosixPath:
    parts = []
    for part in PurePosixPath(path).parts:
        part = package if part == "__package__" else part
        part = part.replace("__revision__", str(context_revision)) if context_revision else part
        parts.append(part.replace("__name__", n.singular).replace("__plural__", n.plural))
    result = PurePosixPath(*parts)
    return result.with_suffix("") if result.suffix == ".jinja" else result


def generate_page(
    project: Project, features: Features, n: GeneratedName, url_map: UrlMap, *, public: bool
) -> Generation:
    """A handler module, a template on the base layout, a route at /NAME and a test."""
    login = features.auth and not public
    context = {"package": project.package, "n": n, "login": login}
    handler = f"{n.class_name}Handler"
    return Generation(
        files=render_generator("page", context),
        imports=[f"from .handlers.{n.singular} import {handler}"],
        routes=[route(f"/{n.slug}", handler, n.slug, url_map)],
    )


def generate_websocket(
    project: Project, features: Features, n: GeneratedName, url_map: UrlMap, *, public: bool
) -> Generation:
    """A page, a WebSocket handler under the proxied prefix, a reconnecting client in static/ and a test."""
    prefix = features.websocket_prefix or DEFAULT_WEBSOCKET_PREFIX
    socket_path = f"{prefix.rstrip('/')}/{n.slug}"
    login = features.auth and not public
    context = {
        "package": project.package,
        "n": n,
        "login": login,
        "rate_limiter": features.rate_limiter,
        "client_json": features.client_json,
        "services": features.services,
        "room": features.room,
        "socket_path": socket_path,
    }
    page, socket = f"{n.class_name}PageHandler", f"{n.class_name}SocketHandler"
    generation = Generation(
        files=render_generator("websocket", context),
        imports=[f"from .handlers.{n.singular} import {page}, {socket}"],
        routes=[route(f"/{n.slug}", page, n.slug, url_map), route(socket_path, socket, f"{n.slug}-socket", url_map)],
    )
    if features.websocket_prefix is None:
        _add_websocket_prefix(project, generation)
    if not features.room:
        generation.notes.append(
            "this project has no chat room (services.room, chatroom.py): the new socket limits messages per"
            " socket, and caps no sockets per session or per user as the chat does"
        )
    return generation


def _add_websocket_prefix(project: Project, generation: Generation) -> None:
    """Declare /ws/ in [tool.tkit] websocket-paths, so deploy-config proxies it with the upgrade headers."""
    pyproject = project.root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    old, new = "websocket-paths = []\n", f'websocket-paths = ["{DEFAULT_WEBSOCKET_PREFIX}"]\n'
    if text.count(old) != 1:
        raise BadInput(
            f'pyproject.toml: set `websocket-paths = ["{DEFAULT_WEBSOCKET_PREFIX}"]` in [tool.tkit] first,'
            " so that deploy-config proxies the new WebSocket"
        )
    generation.edits.append(Edit("pyproject.toml", new, old))
    generation.notes.append(
        'this project was made without WebSockets: add "websocket_ping_interval": 20 to tornado_settings() in'
        " app.py (else dead peers are never dropped), and close open sockets in the graceful stop as a project"
        " made with the chat does (app.websockets in app.py and __main__.py)"
    )


def module_clashes(project: Project, n: GeneratedName, files: list[RenderedFile]) -> str | None:
    """Why NAME clashes with an existing module or folder of the package, or None."""
    package = project.root / project.package
    for candidate in (
        package / n.singular,
        package / f"{n.singular}.py",
        package / n.plural,
        package / f"{n.plural}.py",
    ):
        if candidate.exists() and not _generated_here(project.root, candidate, files):
            return f"the project already has {candidate.relative_to(project.root)}"
    for file in files:
        if file.path.suffix == ".py" and (project.root / file.path).exists():
            return f"the project already has the module {file.path}"
    return None


def _generated_here(root: Path, candidate: Path, files: list[RenderedFile]) -> bool:
    return any(root / file.path == candidate for file in files)
