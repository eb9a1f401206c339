"""Security headers for every response, and the `next` redirect check."""

from __future__ import annotations

import urllib.parse
from typing import Any

import tornado.web

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMixin(tornado.web.RequestHandler):
    """Sets the security headers on every response (error pages included) and drops the Server banner."""

    def set_default_headers(self) -> None:
        """Called by Tornado for each response, and again after clear() when an error page is written."""
        self.clear_header("Server")
        for name, value in HEADERS.items():
            self.set_header(name, value)
        if self.settings.get("https"):
            self.set_header("Strict-Transport-Security", "max-age=31536000; includeSubDomains")


class StaticFileHandler(SecurityHeadersMixin, tornado.web.StaticFileHandler):
    """Static files with the same security headers as pages."""

    def parse_url_path(self, url_path: str) -> str:
        """A NUL byte (`%00`) in the path is the client's fault: 400, not os.stat's ValueError as a 500."""
        if "\x00" in url_path:
            raise tornado.web.HTTPError(400)
        return super().parse_url_path(url_path)


def safe_next_url(value: str | None, default: str = "/") -> str:
    """`value` if it is a path on this site, else `default`: no scheme, no host, no tricks."""
    if not value or len(value) > 2000:
        return default
    if " " in value:
        return default
    candidate = value
    for _ in range(3):  # also check encoded (and doubly encoded) forms
        if not _is_local_path(candidate):
            return default
        decoded = urllib.parse.unquote(candidate)
        if decoded == candidate:
            return value
        candidate = decoded
    return default


def _is_local_path(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//"):
        return False
    if "\\" in path or not path.isascii() or not path.isprintable():
        return False
    parts = urllib.parse.urlsplit(path)
    return not parts.scheme and not parts.netloc


def security_settings(https: bool) -> dict[str, Any]:
    """Application settings for XSRF and cross-origin protection."""
    return {
        "xsrf_cookies": True,
        "xsrf_cookie_kwargs": {"samesite": "Lax", "secure": https},
        "cross_origin_protection": True,
        "https": https,
    }
