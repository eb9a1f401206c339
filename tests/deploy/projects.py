"""Small tkit projects on disk for deploy tests: just what `tkit deploy-config` reads."""

from __future__ import annotations

from pathlib import Path

PYPROJECT = """\
[project]
name = "{name}"
version = "0.1.0"

[tool.tkit]
package = "{name}"
app = "{name}.app:make_app"
websocket-paths = {ws}
static-dir = "{name}/static"
static-url = "/static/"
"""


def make_project(root: Path, name: str = "mysite", env: str = "", websocket: bool = True) -> Path:
    """Write a minimal project (pyproject.toml, .env, static folder) at `root` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    ws = '["/ws/"]' if websocket else "[]"
    (root / "pyproject.toml").write_text(PYPROJECT.format(name=name, ws=ws), encoding="utf-8")
    (root / ".env").write_text("COOKIE_SECRET=" + "x" * 40 + "\n" + env, encoding="utf-8")
    (root / name / "static").mkdir(parents=True, exist_ok=True)
    return root


ECHO_MAIN = '''\
"""A tiny app run like the generated one (`python -m echoapp --port --address --xheaders`, SIGTERM
finishes in-flight requests), that shows what the proxy hands it."""

import argparse
import asyncio
import json
import os
import signal

import tornado.web
import tornado.websocket


class WhoAmI(tornado.web.RequestHandler):
    def get(self):
        self.write({"remote_ip": self.request.remote_ip, "protocol": self.request.protocol,
                    "host": self.request.host, "port": self.application.settings["port"], "pid": os.getpid(),
                    "https_env": os.environ.get("HTTPS"),
                    "bound": self.request.connection.stream.socket.getsockname()[0]})


IN_FLIGHT = set()


class Slow(tornado.web.RequestHandler):
    async def get(self):
        IN_FLIGHT.add(self)
        try:
            await asyncio.sleep(float(self.get_argument("seconds", "2")))
            self.write({"done": True, "port": self.application.settings["port"]})
        finally:
            IN_FLIGHT.discard(self)


class Upload(tornado.web.RequestHandler):
    def post(self):
        self.write({"received": len(self.request.body)})


class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(json.dumps({"echo": message, "port": self.application.settings["port"]}))


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--xheaders", action="store_true")
    args = parser.parse_args()
    app = tornado.web.Application(
        [("/", WhoAmI), ("/slow", Slow), ("/upload", Upload), ("/ws/echo", Echo), ("/plain/echo", Echo)],
        port=args.port,
    )
    server = app.listen(args.port, address=args.address, xheaders=args.xheaders, max_body_size=10 * 1024 * 1024)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.stop()
    for _ in range(100):  # finish in-flight requests, at most 10 s
        if not IN_FLIGHT:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.1)
    await asyncio.wait_for(server.close_all_connections(), timeout=10)


asyncio.run(main())
'''


def make_echo_project(root: Path, env: str = "") -> Path:
    """A project whose app echoes what the proxy sends: remote_ip, scheme, Host, worker port."""
    make_project(root, name="echoapp", env=env)
    (root / "echoapp" / "__init__.py").write_text("")
    (root / "echoapp" / "__main__.py").write_text(ECHO_MAIN)
    (root / "echoapp" / "static" / "site.css").write_text("body { color: #123456; }\n" * 40)
    (root / "echoapp" / "static" / ".hidden").write_text("not for the public\n")
    return root
