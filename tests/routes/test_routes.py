"""`tkit routes`: every route with its flags, shadowed routes and duplicate names, on small test apps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROUTES_APP = r'''
import functools
import tornado.web
import tornado.websocket


def logged(method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        return method(self, *args, **kwargs)
    return wrapper


def authenticated(method):
    """Same name as Tornado's decorator, but it checks nothing."""
    return method


class Page(tornado.web.RequestHandler):
    @tornado.web.authenticated
    def get(self):
        self.write("page")

    def post(self):
        self.write("posted")


class Stacked(tornado.web.RequestHandler):
    @logged
    @tornado.web.authenticated
    async def get(self):
        self.write("stacked")


class Impostor(tornado.web.RequestHandler):
    @authenticated
    def get(self):
        self.write("not protected")


class Guarded(tornado.web.RequestHandler):
    async def prepare(self):
        self.current_user = None
        if self.current_user is None:
            raise tornado.web.HTTPError(401)

    def get(self, item):
        self.write(item)

    def delete(self, item):
        self.set_status(204)


class GuardDropped(Guarded):
    async def prepare(self):
        self.current_user = "anyone"


class GuardKept(Guarded):
    async def prepare(self):
        await super().prepare()


class Webhook(tornado.web.RequestHandler):
    def check_xsrf_cookie(self):
        pass

    def post(self):
        self.write("ok")


class Socket(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        pass


class CatchAll(tornado.web.RequestHandler):
    def get(self, path):
        self.write(path)


def make_app():
    app = tornado.web.Application(
        [
            tornado.web.url(r"/", Page, name="home"),
            tornado.web.url(r"/stacked", Stacked, name="stacked"),
            tornado.web.url(r"/impostor", Impostor, name="impostor"),
            tornado.web.url(r"/items/([0-9]+)", Guarded, name="item"),
            tornado.web.url(r"/items/([a-z]+)", GuardDropped, name="item-by-name"),
            tornado.web.url(r"/kept/(\w+)", GuardKept, name="kept"),
            tornado.web.url(r"/hook", Webhook, name="hook"),
            tornado.web.url(r"/ws/chat", Socket, name="socket"),
            tornado.web.url(r"/static/(.*)", tornado.web.StaticFileHandler, {"path": "."}, name="static"),
            tornado.web.url(r"/files/(.*)", CatchAll, name="files"),
            tornado.web.url(r"/files/readme", Page, name="readme"),
            tornado.web.url(r"/(.*)", CatchAll, name="catch-all"),
            tornado.web.url(r"/about", Page, name="home"),
        ],
        xsrf_cookies=True,
        cookie_secret="k" * 40,
    )
    app.add_handlers(r"admin\.example\.com", [tornado.web.url(r"/", Page, name="admin-home")])
    return app
'''


def run_routes(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m tornado_kit routes ARGS` in `folder`."""
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tornado_kit", "routes", *args],
        check=False,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def app_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding routesapp.py."""
    folder = tmp_path_factory.mktemp("routesapp")
    (folder / "routesapp.py").write_text(ROUTES_APP, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def report(app_folder: Path) -> dict[str, Any]:
    """`tkit routes --json` on the test app."""
    result = run_routes(app_folder, "--app", "routesapp:make_app", "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The rows keyed by route name (the first row of a name; duplicates are tested separately)."""
    rows: dict[str, dict[str, Any]] = {}
    for row in report["routes"]:
        rows.setdefault(row["name"], row)
    return rows


def test_every_route_in_order_with_host_rules_first(report: dict[str, Any]) -> None:
    patterns = [(row["host"], row["pattern"]) for row in report["routes"]]
    assert patterns[0] == (r"admin\.example\.com$", "/")
    assert [p for h, p in patterns if h == "*"] == [
        "/",
        "/stacked",
        "/impostor",
        "/items/([0-9]+)",
        "/items/([a-z]+)",
        r"/kept/(\w+)",
        "/hook",
        "/ws/chat",
        "/static/(.*)",
        "/files/(.*)",
        "/files/readme",
        "/(.*)",
        "/about",
    ]


def test_methods_and_handlers(report: dict[str, Any]) -> None:
    rows = by_name(report)
    assert rows["home"]["methods"] == ["GET", "POST"]
    assert rows["home"]["handler"] == "routesapp.Page"
    assert rows["item"]["methods"] == ["GET", "DELETE"]
    assert rows["static"]["methods"] == ["GET", "HEAD"]
    assert rows["static"]["handler"] == "tornado.web.StaticFileHandler"


def test_login_from_the_decorator_even_under_another_decorator(report: dict[str, Any]) -> None:
    rows = by_name(report)
    assert rows["home"]["login_required"] == ["GET"]
    assert rows["stacked"]["login_required"] == ["GET"]
    assert rows["impostor"]["login_required"] == [], "a decorator merely named `authenticated` protects nothing"
    assert rows["hook"]["login_required"] == []


def test_login_from_a_prepare_guard_follows_super_calls(report: dict[str, Any]) -> None:
    rows = by_name(report)
    assert rows["item"]["login_required"] == ["GET", "DELETE"]
    assert rows["kept"]["login_required"] == ["GET", "DELETE"]
    assert rows["item-by-name"]["login_required"] == [], "an override without super() drops the guard"


def test_websocket_and_xsrf_flags(report: dict[str, Any]) -> None:
    rows = by_name(report)
    assert rows["socket"]["websocket"] is True
    assert [name for name, row in rows.items() if row["websocket"]] == ["socket"]
    assert rows["hook"]["xsrf_exempt"] is True
    assert [name for name, row in rows.items() if row["xsrf_exempt"]] == ["hook"]


def test_shadowed_routes_and_duplicate_names_are_reported(report: dict[str, Any]) -> None:
    warnings = {(w["kind"], w["pattern"]) for w in report["warnings"]}
    assert ("shadowed", "/files/readme") in warnings
    assert ("shadowed", "/about") in warnings
    assert ("duplicate-name", "/about") in warnings
    assert ("shadowed", "/items/([a-z]+)") not in warnings, "[0-9]+ does not take letters"
    assert {p for k, p in warnings if k == "shadowed"} == {"/files/readme", "/about"}
    assert len([w for w in warnings if w[0] == "duplicate-name"]) == 1


def test_table_output_and_warnings_on_stderr(app_folder: Path) -> None:
    result = run_routes(app_folder, "--app", "routesapp:make_app")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["pattern", "name", "handler", "methods", "login", "ws", "xsrf-exempt"]
    home = next(line for line in lines if line.startswith("/ ") and "routesapp.Page" in line)
    assert home.split()[3:] == ["GET,POST", "GET", "no", "no"]
    item = next(line for line in lines if line.startswith("/items/([0-9]+)"))
    assert item.split()[3:] == ["GET,DELETE", "yes", "no", "no"]
    assert "Warning: route /files/readme (routesapp.Page) never matches: /files/(.*)" in result.stderr


def test_an_app_that_fails_to_load_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "brokenapp.py").write_text("def make_app():\n    raise RuntimeError('no database')\n", encoding="utf-8")
    result = run_routes(tmp_path, "--app", "brokenapp:make_app")
    assert result.returncode == 1
    assert "Error: cannot load the app brokenapp:make_app: RuntimeError: no database" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_input(tmp_path: Path) -> None:
    assert run_routes(tmp_path, "--app", "no-colon").returncode == 2
    outside = run_routes(tmp_path)
    assert outside.returncode == 1 and "Error:" in outside.stderr and "Traceback" not in outside.stderr
