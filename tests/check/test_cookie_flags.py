"""security.E012 reads the project's code: which cookie calls lack which flags."""

from __future__ import annotations

from pathlib import Path

from tornado_kit.check.app_deploy_checks import session_cookie_flags
from tornado_kit.check.context import CheckContext
from tornado_kit.project import Project

HANDLERS = """
class H:
    def a(self):
        self.set_signed_cookie("session", "v", httponly=True, samesite="Lax", secure=self.settings["https"])
    def b(self):
        self.set_cookie("theme", "dark", samesite="Lax")
    def c(self):
        self.set_signed_cookie("session", "v", samesite="Strict")
    def d(self):
        self.set_cookie("theme", "dark", **self.cookie_options)
    def e(self):
        self.set_signed_cookie("session", "v", httponly=False, samesite="Lax", secure=True)
"""


def findings(tmp_path: Path, env: dict[str, str]) -> list[str]:
    package = tmp_path / "site"
    package.mkdir(exist_ok=True)
    (package / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    project = Project(root=tmp_path, name="site", package="site", app="site.app:make_app")
    return list(session_cookie_flags(CheckContext(root=tmp_path, project=project, env=env)))


def test_signed_cookies_need_httponly_plain_ones_do_not(tmp_path: Path) -> None:
    assert findings(tmp_path, {}) == [
        "site/handlers.py:8: set_signed_cookie() without HttpOnly",
        "site/handlers.py:12: set_signed_cookie() without HttpOnly",
    ]


def test_behind_https_every_cookie_needs_secure(tmp_path: Path) -> None:
    assert findings(tmp_path, {"HTTPS": "1"}) == [
        "site/handlers.py:6: set_cookie() without Secure",
        "site/handlers.py:8: set_signed_cookie() without HttpOnly, Secure",
        "site/handlers.py:12: set_signed_cookie() without HttpOnly",
    ]
