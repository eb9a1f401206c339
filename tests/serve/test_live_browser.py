"""Live reload in a real browser (Debian's headless Chromium, driven by Playwright) on a `tkit new` project.

One tab follows the code: a stylesheet is swapped with no navigation (a value kept on `window` and typed
form input survive); a template edit reloads the page with the new text; broken Python shows the
traceback page and the fixing save brings the normal page back; a restarted dev server is found again.
The browser console shows no error and no CSP violation throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
from serve.devserver import DevServer, copy_project
from support import launch_chromium

pytestmark = pytest.mark.slow

TIMEOUT_MS = 15_000
# functions, not expressions: Playwright would eval() an expression, which the page's CSP refuses
CONNECTED = "() => Boolean(window.__tkitLiveReload && window.__tkitLiveReload.connected)"
DISCONNECTED = "() => !(window.__tkitLiveReload && window.__tkitLiveReload.connected)"


@pytest.fixture(scope="module")
def site(generated_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(generated_project, tmp_path_factory.mktemp("live") / "site")


@pytest.fixture(scope="module")
def browser() -> Iterator[playwright_api.Browser]:
    with playwright_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


class Tab:
    """One browser tab on the dev server, remembering every console error and CSP violation."""

    def __init__(self, browser: playwright_api.Browser, base_url: str) -> None:
        self.context = browser.new_context(base_url=base_url)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self._console)

    def _console(self, message: playwright_api.ConsoleMessage) -> None:
        if message.type in ("error", "warning") and not message.text.startswith("Failed to load resource"):
            self.errors.append(message.text)

    def open(self, path: str) -> None:
        self.page.goto(path)
        self.page.wait_for_function(CONNECTED)

    def mark(self) -> None:
        """A value only this page load has: gone after a reload, kept by an in-place update."""
        self.page.evaluate("window.tkitMarker = 42")

    def marker(self) -> object:
        return self.page.evaluate("window.tkitMarker")

    def close(self) -> None:
        self.context.close()


def test_a_tab_follows_stylesheet_template_and_python_edits(
    site: Path, browser: playwright_api.Browser, tmp_path: Path
) -> None:
    server = DevServer(site, [], tmp_path)
    tab = Tab(browser, f"http://127.0.0.1:{server.port}")
    try:
        server.wait_for("/login", lambda r: r.status == 200, timeout=60)
        tab.open("/login")
        server.wait_for_log(r"Live reload on")
        _stylesheet_is_swapped_in_place(site, tab, server)
        _template_edit_reloads_the_page(site, tab)
        _broken_code_shows_the_traceback_and_the_fix_reloads(site, tab)
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        server.stop()


def _stylesheet_is_swapped_in_place(site: Path, tab: Tab, server: DevServer) -> None:
    tab.mark()
    tab.page.fill("input[name=username]", "typed but not sent")
    stylesheet = site / "mysite" / "static" / "style.css"
    stylesheet.write_text(stylesheet.read_text() + "\nbody { background-color: rgb(1, 2, 3); }\n")
    tab.page.wait_for_function("() => getComputedStyle(document.body).backgroundColor === 'rgb(1, 2, 3)'")
    assert tab.marker() == 42, "the page was not reloaded"
    assert tab.page.input_value("input[name=username]") == "typed but not sent"
    assert tab.page.locator('link[rel="stylesheet"]').count() == 1, "the old <link> is removed once the new one loads"
    server.wait_for_log(r"mysite/static/style\.css changed: updated in place in 1 tab$")


def _template_edit_reloads_the_page(site: Path, tab: Tab) -> None:
    tab.mark()
    template = site / "mysite" / "templates" / "login.html"
    template.write_text(template.read_text().replace("<h1>Log in</h1>", "<h1>Welcome back</h1>"))
    playwright_api.expect(tab.page.locator("h1")).to_have_text("Welcome back")
    assert tab.marker() is None, "the page was reloaded"
    tab.page.wait_for_function(CONNECTED)


def _broken_code_shows_the_traceback_and_the_fix_reloads(site: Path, tab: Tab) -> None:
    module = site / "mysite" / "handlers" / "pages.py"
    good = module.read_text()
    module.write_text(good + "\nraise RuntimeError('tkit live reload: broken on purpose')\n")
    playwright_api.expect(tab.page.locator("h1")).to_have_text("App failed to load")
    playwright_api.expect(tab.page.locator("body")).to_contain_text("broken on purpose")
    tab.page.wait_for_function(CONNECTED)
    module.write_text(good)
    playwright_api.expect(tab.page.locator("h1")).to_have_text("Welcome back")
    tab.page.wait_for_function(CONNECTED)


def test_a_tab_reconnects_when_the_dev_server_comes_back(
    site: Path, browser: playwright_api.Browser, tmp_path: Path
) -> None:
    first = DevServer(site, [], tmp_path)
    tab = Tab(browser, f"http://127.0.0.1:{first.port}")
    second: DevServer | None = None
    try:
        first.wait_for("/login", lambda r: r.status == 200, timeout=60)
        tab.open("/login")
        tab.mark()
        first.stop()
        tab.page.wait_for_function(DISCONNECTED)
        second = DevServer(site, [], tmp_path, port=first.port)
        second.wait_for("/login", lambda r: r.status == 200, timeout=60)
        tab.page.wait_for_function(CONNECTED, timeout=30_000)
        tab.page.wait_for_function("() => window.tkitMarker === undefined", timeout=30_000)  # reloaded: new code
        second.wait_for_log(r"^  200 GET /login ", at_least=1)
        refused = [e for e in tab.errors if e.startswith("WebSocket connection to") and "live-reload' failed" in e]
        assert tab.errors == refused, "only the browser's own note of each failed reconnect while the server was down"
    finally:
        tab.close()
        first.stop()
        if second is not None:
            second.stop()


def test_more_tabs_than_the_browser_has_connections_per_host_all_follow(
    site: Path, browser: playwright_api.Browser, tmp_path: Path
) -> None:
    """Eight tabs in one browser: with one long-lived HTTP request per tab (Server-Sent Events), the
    seventh would wait forever for one of the six connections Chromium allows per host."""
    server = DevServer(site, [], tmp_path)
    context = browser.new_context(base_url=f"http://127.0.0.1:{server.port}")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        server.wait_for("/login", lambda r: r.status == 200, timeout=60)
        pages = [context.new_page() for _ in range(8)]
        for page in pages:
            page.goto("/login")
            page.wait_for_function(CONNECTED)
        stylesheet = site / "mysite" / "static" / "style.css"
        stylesheet.write_text(stylesheet.read_text() + "\nbody { color: rgb(4, 5, 6); }\n")
        for page in pages:
            page.wait_for_function("() => getComputedStyle(document.body).color === 'rgb(4, 5, 6)'")
        server.wait_for_log(r"style\.css changed: updated in place in 8 tabs$")
    finally:
        context.close()
        server.stop()
