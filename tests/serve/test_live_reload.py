"""Live reload without a browser: any `--app` (here a small equivalent of Tornado's websocket chat demo),
the event stream a tab listens to, what the terminal says, and where the script never appears."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tornado.websocket
from serve.devserver import DevServer
from support import close_websocket, migrated_sqlite, running_project

pytestmark = pytest.mark.slow
TAG = '<script src="/_tkit/live-reload.js" async></script></body>'

CHAT_APP = '''\
"""Like Tornado's demos/websocket/chatdemo.py: a page, a stylesheet, a WebSocket everyone shares."""
import os

import tornado.web
import tornado.websocket

from chat_handlers import GREETING

HERE = os.path.dirname(__file__)


class MainHandler(tornado.web.RequestHandler):
    def get(self):
        self.render("index.html", greeting=GREETING)


class ChatSocketHandler(tornado.websocket.WebSocketHandler):
    waiters = set()

    def open(self):
        ChatSocketHandler.waiters.add(self)

    def on_close(self):
        ChatSocketHandler.waiters.discard(self)

    def on_message(self, message):
        for waiter in list(ChatSocketHandler.waiters):
            waiter.write_message(message)


def make_app():
    return tornado.web.Application(
        [(r"/", MainHandler), (r"/chatsocket", ChatSocketHandler)],
        template_path=os.path.join(HERE, "templates"),
        static_path=os.path.join(HERE, "static"),
        xsrf_cookies=True,
    )
'''
INDEX = """<!doctype html>
<html><head><title>Chat</title><link rel="stylesheet" href="{{ static_url('chat.css') }}"></head>
<body><h1>{{ greeting }}</h1><form action="/a/message/new" method="post">{% module xsrf_form_html() %}</form>
</body></html>
"""


@pytest.fixture
def chat(tmp_path: Path) -> Path:
    folder = tmp_path / "chat"
    (folder / "templates").mkdir(parents=True)
    (folder / "static").mkdir()
    (folder / "chatdemo.py").write_text(CHAT_APP)
    (folder / "chat_handlers.py").write_text("GREETING = 'hello-1'\n")
    (folder / "templates" / "index.html").write_text(INDEX)
    (folder / "static" / "chat.css").write_text("body { color: black; }\n")
    return folder


class LiveSocket:
    """One tab's view of /_tkit/live-reload: (event, data) pairs as they come, on its own event loop."""

    def __init__(self, port: int) -> None:
        self.loop = asyncio.new_event_loop()
        url = f"ws://127.0.0.1:{port}/_tkit/live-reload"

        async def connect() -> tornado.websocket.WebSocketClientConnection:
            return await tornado.websocket.websocket_connect(url)  # inside a running loop, as Tornado wants

        self.socket = self.loop.run_until_complete(connect())

    def next(self) -> tuple[str, str] | None:
        """The next message, or None when the dev server closes the socket."""

        async def read() -> str | bytes | None:
            return await asyncio.wait_for(self.socket.read_message(), timeout=15)

        message = self.loop.run_until_complete(read())
        if message is None:
            return None
        event = json.loads(message)
        return event["event"], event["data"]

    def close(self) -> None:
        self.loop.run_until_complete(close_websocket(self.socket))
        self.loop.close()


@pytest.fixture
def streams() -> Iterator[Callable[[int], LiveSocket]]:
    opened: list[LiveSocket] = []

    def open_socket(port: int) -> LiveSocket:
        opened.append(LiveSocket(port))
        return opened[-1]

    yield open_socket
    for socket in opened:
        socket.close()


def test_any_app_follows_stylesheet_template_and_code_edits(
    chat: Path, start_server: Callable[..., DevServer], streams: Callable[[int], LiveSocket]
) -> None:
    server = start_server(chat, "--app", "chatdemo:make_app")
    page = server.wait_for("/", lambda r: r.status == 200, timeout=30)
    assert page.body.count(TAG) == 1
    assert server.get("/_tkit/live-reload.js").headers["content-type"].startswith("text/javascript")
    assert asyncio.run(_chat_round_trip(server.port)) == "hi all", "the app's own WebSocket still works"
    tab = streams(server.port)
    hello = tab.next()
    assert hello is not None and hello[0] == "hello"
    server.wait_for_log(r"^Ready in ")

    (chat / "static" / "chat.css").write_text("body { color: red; }\n")
    assert tab.next() == ("css", "static/chat.css")
    server.wait_for_log(r"^static/chat\.css changed: updated in place in 1 tab$")

    (chat / "templates" / "index.html").write_text(INDEX.replace("<h1>", "<h1 class=new>"))
    assert tab.next() == ("reload", "templates/index.html")
    server.wait_for_log(r"^templates/index\.html changed: reloading 1 tab$")
    assert "<h1 class=new>" in server.get("/").body, "templates are read per request: no new process needed"

    (chat / "chat_handlers.py").write_text("GREETING = 'hello-2'\n")
    assert tab.next() is None, "the old app process closes the socket when it stops"
    server.wait_for_log(r"^Reloaded chat_handlers\.py in \d+ ms \[pid \d+\]; reloading 1 tab$")
    again = streams(server.port).next()
    assert again is not None and again[0] == "hello" and again[1] != hello[1], "a new process, a new name"
    assert "hello-2" in server.get("/").body


async def _chat_round_trip(port: int) -> str:
    socket = await tornado.websocket.websocket_connect(f"ws://127.0.0.1:{port}/chatsocket")
    try:
        await socket.write_message("hi all")
        return str(await asyncio.wait_for(socket.read_message(), timeout=10))
    finally:
        await close_websocket(socket)


@pytest.mark.parametrize("option", ["--no-live-reload", "--no-reload"])
def test_live_reload_can_be_turned_off(chat: Path, start_server: Callable[..., DevServer], option: str) -> None:
    server = start_server(chat, "--app", "chatdemo:make_app", option)
    page = server.wait_for("/", lambda r: r.status == 200, timeout=30)
    assert "live-reload" not in page.body
    assert "server-timing" not in page.headers
    assert server.get("/_tkit/live-reload.js").status == 404, "the user's app answers, not the dev server"
    server.wait_for_log(r"Press Ctrl-C to stop")
    assert "Live reload on" not in server.log()


def test_the_generated_app_run_directly_never_carries_the_script(generated_project: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": migrated_sqlite(generated_project, tmp_path / "db.sqlite3"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with running_project(generated_project, env, tmp_path / "app.log") as (url, _):
        port = int(url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/login")
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
    assert response.status == 200 and "</body>" in body
    assert "live-reload" not in body and "_tkit" not in body
