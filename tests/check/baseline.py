"""A small, correct tkit project with deploy files: every check passes on it. Tests copy it and
introduce one problem at a time (files built from a {path: text} dict, as in copier's tests)."""

from __future__ import annotations

import secrets
from pathlib import Path

PACKAGE = "goodapp"

APP = '''\
"""A tiny app that follows the generated project's rules: settings from .env, xsrf, cookie flags, limits."""
from __future__ import annotations

import os
from pathlib import Path

import tornado.web
import tornado.websocket

HERE = Path(__file__).parent


def read_env() -> dict[str, str]:
    values = {}
    env_file = Path(os.environ.get("ENV_FILE", ".env"))
    if env_file.is_file():
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    return {**values, **os.environ}


class Home(tornado.web.RequestHandler):
    @tornado.web.authenticated
    def get(self) -> None:
        self.render("home.html")


class Login(tornado.web.RequestHandler):
    def get(self) -> None:
        self.render("login.html")

    def post(self) -> None:
        self.set_signed_cookie("session", "x", httponly=True, samesite="Lax", secure=self.settings["https"])
        self.redirect("/")


class NotesApi(tornado.web.RequestHandler):
    @tornado.web.authenticated
    def get(self, note_id: str) -> None:
        self.write({"id": note_id})

    @tornado.web.authenticated
    def delete(self, note_id: str) -> None:
        self.set_status(204)


class ChatSocket(tornado.websocket.WebSocketHandler):
    def on_message(self, message: str | bytes) -> None:
        self.write_message(message)


def make_app(settings: object = None) -> tornado.web.Application:
    env = read_env()
    https = env.get("HTTPS") == "1"
    return tornado.web.Application(
        [
            tornado.web.url(r"/", Home, name="home"),
            tornado.web.url(r"/login", Login, name="login"),
            tornado.web.url(r"/api/notes/([0-9]+)", NotesApi, name="note"),
            tornado.web.url(r"/ws/chat", ChatSocket, name="chat-socket"),
        ],
        cookie_secret=env.get("COOKIE_SECRET"),
        debug=env.get("DEBUG") == "1",
        https=https,
        xsrf_cookies=True,
        xsrf_cookie_kwargs={"secure": https, "samesite": "Lax"},
        cross_origin_protection=True,
        login_url="/login",
        template_path=str(HERE / "templates"),
        max_body_size=int(env.get("MAX_BODY_SIZE", "1048576")),
        websocket_max_message_size=65536,
        websocket_ping_interval=30,
    )
'''

BASE_HTML = """<!doctype html>
<html><body>{% block body %}{% end %}</body></html>
"""

HOME_HTML = """{% extends "base.html" %}
{% block body %}<p>Hello {{ current_user }}</p>
<form method="post" action="/logout">{% module xsrf_form_html() %}<button>Log out</button></form>{% end %}
"""

LOGIN_HTML = """{% extends "base.html" %}
{% block body %}
<form method="POST" action="/login">
  {% module xsrf_form_html() %}
  <input name="username"><input name="password" type="password">
</form>
<form method="get" action="/search"><input name="q"></form>
{% end %}
"""

PYPROJECT = f"""[project]
name = "{PACKAGE}"
version = "0.1.0"
dependencies = ["tornado>=6.6"]

[tool.tkit]
package = "{PACKAGE}"
app = "{PACKAGE}.app:make_app"
websocket-paths = ["/ws/"]
static-dir = "{PACKAGE}/static"
static-url = "/static/"
"""

NGINX = f"""# nginx for {PACKAGE} (a drop-in for the http block)
upstream {PACKAGE}_app {{
    server 127.0.0.1:8001;
    server 127.0.0.1:8002;
    keepalive 32;
}}

map $http_upgrade $connection_upgrade {{
    default upgrade;
    ""      "";
}}

server {{
    listen 80;
    server_name example.com;
    server_tokens off;
    client_max_body_size 1m;

    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Scheme $scheme;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;

    location /static/ {{
        alias "/srv/{PACKAGE}/{PACKAGE}/static/";
        expires 1y;
    }}

    location /ws/ {{
        proxy_read_timeout 1h;
        proxy_pass http://{PACKAGE}_app;
    }}

    location / {{
        proxy_pass http://{PACKAGE}_app;
    }}
}}
"""

SUPERVISOR = f"""; supervisor for {PACKAGE}
[program:{PACKAGE}]
command=/srv/{PACKAGE}/.venv/bin/python -m {PACKAGE} --port %(process_num)d --address 127.0.0.1 --xheaders
process_name=%(program_name)s_%(process_num)d
numprocs=2
numprocs_start=8001
directory=/srv/{PACKAGE}
user={PACKAGE}
environment=PYTHONUNBUFFERED="1"
stopsignal=TERM
stopwaitsecs=15
stopasgroup=true
killasgroup=true
"""


def baseline_files(secret: str) -> dict[str, str]:
    """The project as {relative path: text}."""
    return {
        "pyproject.toml": PYPROJECT,
        ".env": f"COOKIE_SECRET={secret}\nSHUTDOWN_TIMEOUT=10\n",
        f"{PACKAGE}/__init__.py": "",
        f"{PACKAGE}/app.py": APP,
        f"{PACKAGE}/templates/base.html": BASE_HTML,
        f"{PACKAGE}/templates/home.html": HOME_HTML,
        f"{PACKAGE}/templates/login.html": LOGIN_HTML,
        f"{PACKAGE}/static/app.css": "body { margin: 0 }\n",
        f"deploy/nginx/{PACKAGE}.conf": NGINX,
        f"deploy/supervisor/{PACKAGE}.conf": SUPERVISOR,
    }


def new_secret() -> str:
    """A fresh random secret, as `tkit new` makes one."""
    return secrets.token_urlsafe(48)


def write_baseline(root: Path, secret: str) -> Path:
    """Write the baseline project into `root` (.env mode 0600) and return root."""
    for relative, text in baseline_files(secret).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / ".env").chmod(0o600)
    return root
