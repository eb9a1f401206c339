"""`--deploy` checks of the app's settings and its `.env`, read as the app reads them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import tornado

from tornado_kit.check.app_checks import template_files
from tornado_kit.check.base import Level, register
from tornado_kit.check.context import CheckContext

MIN_SECRET_LENGTH = 32
PLACEHOLDER_WORDS = ("change", "placeholder", "example", "secret", "todo", "replace", "your", "xxxx", "insecure")
SECURITY_FLOOR = (6, 6, 0)
FLOOR_TEXT = ".".join(map(str, SECURITY_FLOOR))


def cookie_keys(context: CheckContext) -> list[str]:
    """Every cookie signing key, from COOKIE_SECRET (`2:new,1:old` too) or the app's setting."""
    keys = context.cookie_keys()
    if keys:
        return keys
    configured = context.settings.get("cookie_secret")
    if isinstance(configured, dict):
        return [str(value) for value in configured.values()]
    return [str(configured)] if configured else []


@register("security.E001", Level.ERROR, "Set DEBUG=0 (or remove it) in production.", deploy=True)
def debug_off(context: CheckContext) -> Iterator[str]:
    """debug=True means autoreload, tracebacks to the client and no template cache."""
    if context.flag("DEBUG") or context.settings.get("debug"):
        yield "debug mode is on (DEBUG=1 or the `debug` setting)"


@register("security.E002", Level.ERROR, "Leave serve_traceback and autoreload off outside development.", deploy=True)
def tracebacks_off(context: CheckContext) -> Iterator[str]:
    """Tracebacks leak code and settings; autoreload re-executes the process in place."""
    if context.flag("DEBUG") or context.settings.get("debug"):
        return  # debug turns both on; security.E001 already says so
    for name in ("serve_traceback", "autoreload"):
        if context.settings.get(name):
            yield f"the `{name}` setting is on"


@register(
    "security.E003",
    Level.ERROR,
    "Put COOKIE_SECRET=<python -c 'import secrets; print(secrets.token_urlsafe(48))'> in .env.",
    deploy=True,
)
def cookie_secret_set(context: CheckContext) -> Iterator[str]:
    """Without a secret, signed cookies (sessions) do not work or use a debug key."""
    if not cookie_keys(context):
        yield "no cookie secret: COOKIE_SECRET is not set"


@register("security.E004", Level.ERROR, f"Use a random key of at least {MIN_SECRET_LENGTH} characters.", deploy=True)
def cookie_secret_long(context: CheckContext) -> Iterator[str]:
    """A short key can be brute-forced, and then anyone can forge a session."""
    for index, key in enumerate(cookie_keys(context), start=1):
        if len(key) < MIN_SECRET_LENGTH:
            yield f"cookie secret key {index} is {len(key)} characters long (the value is not shown)"


@register("security.E005", Level.ERROR, "Generate a random key; do not use example values.", deploy=True)
def cookie_secret_random(context: CheckContext) -> Iterator[str]:
    """Placeholders from docs and templates are public, so every cookie can be forged."""
    for index, key in enumerate(cookie_keys(context), start=1):
        if any(word in key.lower() for word in PLACEHOLDER_WORDS) or len(set(key)) < 10:
            yield f"cookie secret key {index} looks like a placeholder (the value is not shown)"


@register(
    "security.E006",
    Level.ERROR,
    "`git rm --cached .env`, add it to .gitignore, and rotate the secret (it is in the history).",
    deploy=True,
)
def cookie_secret_untracked(context: CheckContext) -> Iterator[str]:
    """A secret in git is a secret shared with everyone who can read the repository."""
    env_file = context.env_file
    if env_file is not None and git(context, "ls-files", "--error-unmatch", "--", env_file.name) == 0:
        yield f"{env_file.name} is tracked by git"
    keys = [key for key in cookie_keys(context) if len(key) >= 8]
    if keys and git(context, "grep", "-q", "-F", "-f", "-", "--cached", stdin="\n".join(keys) + "\n") == 0:
        yield "the cookie secret appears in a file tracked by git"


def git(context: CheckContext, *args: str, stdin: str | None = None) -> int | None:
    """Run git in the project; the exit status, or None when git is missing or this is no repository."""
    try:
        inside = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            check=False,
            cwd=context.root,
            capture_output=True,
            timeout=20,
        )
        if inside.returncode != 0:
            return None
        done = subprocess.run(
            ["git", *args], check=False, cwd=context.root, input=(stdin or "").encode(), capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.returncode


@register("security.E007", Level.ERROR, "chmod 600 .env (only the app's user may read the secret).", deploy=True)
def env_file_private(context: CheckContext) -> Iterator[str]:
    """Other local users must not read the secret."""
    env_file = context.env_file
    if env_file is not None and env_file.is_file():
        mode = env_file.stat().st_mode & 0o777
        if mode & 0o077:
            yield f"{env_file.name} has mode {mode:04o}, readable by others than its owner"


@register(
    "security.E008", Level.ERROR, "Set xsrf_cookies=True and put {% module xsrf_form_html() %} in forms.", deploy=True
)
def xsrf_on(context: CheckContext) -> Iterator[str]:
    """Without XSRF tokens any site can post forms as a signed-in user."""
    if context.app is not None and not context.settings.get("xsrf_cookies"):
        yield "xsrf_cookies is off"


@register(
    "security.W009",
    Level.WARNING,
    "Set cross_origin_protection=True (Tornado 6.6) to reject cross-site unsafe requests.",
    deploy=True,
)
def cross_origin_on(context: CheckContext) -> Iterator[str]:
    """Sec-Fetch-Site/Origin checks stop cross-site requests even where a token is missing."""
    if context.app is not None and not context.settings.get("cross_origin_protection"):
        yield "cross_origin_protection is off"


@register(
    "security.E010",
    Level.ERROR,
    "Keep autoescape on (the default, xhtml_escape); escape by hand only with {% raw %} where proven safe.",
    deploy=True,
)
def autoescape_on(context: CheckContext) -> Iterator[str]:
    """Without autoescaping every template variable is an XSS hole."""
    if context.app is not None and "autoescape" in context.settings and context.settings["autoescape"] is None:
        yield "the `autoescape` setting is None: templates do not escape output"
    for root, name in template_files(context):
        if "{% autoescape None %}" in (root / name).read_text(encoding="utf-8", errors="replace").replace("  ", " "):
            yield f"template {name} turns autoescape off"


@register("security.E011", Level.ERROR, f"pip install -U 'tornado>={FLOOR_TEXT}'", deploy=True)
def tornado_recent(context: CheckContext) -> Iterator[str]:
    """Older Tornado releases have known security holes (fixed in 6.5.x) and no cross_origin_protection."""
    if tuple(tornado.version_info[:3]) < SECURITY_FLOOR:
        yield f"installed Tornado {tornado.version} is below the security floor {FLOOR_TEXT}"
