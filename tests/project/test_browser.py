"""A real browser (Debian's headless Chromium, driven by Playwright) uses the generated app end to end."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
from support import launch_chromium, migrated_sqlite, running_project

PASSWORD = "a long enough password 1"
TIMEOUT_MS = 20_000

pytestmark = pytest.mark.slow  # no skip: CI installs chromium and playwright, and a skip would hide a failure


@pytest.fixture(scope="module")
def site(generated_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python -m mysite` on a free port with a fresh database outside the (read-only) project."""
    folder = tmp_path_factory.mktemp("browser")
    env = {
        **os.environ,
        "DATABASE_URL": migrated_sqlite(generated_project, folder / "db.sqlite3"),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    with running_project(generated_project, env, folder / "server.log") as (url, _):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()


class Visitor:
    """One person in their own browser context (own cookies), remembering every console error."""

    def __init__(self, browser: object, site: str) -> None:
        self.context = browser.new_context(base_url=site)  # type: ignore[attr-defined]
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", self.console_message)
        self.page.on("response", self.response)

    def console_message(self, message: object) -> None:
        """Script errors and CSP violations; failed loads are judged by `response` (with their URL)."""
        text = str(message.text)  # type: ignore[attr-defined]
        if message.type == "error" and not text.startswith("Failed to load resource"):  # type: ignore[attr-defined]
            self.errors.append(text)

    def response(self, response: object) -> None:
        """Any failed load, the favicon included."""
        url, status = str(response.url), int(response.status)  # type: ignore[attr-defined]
        if status >= 400:
            self.errors.append(f"{status} {url}")

    def submit_account_form(self, path: str, username: str) -> None:
        self.page.goto(path)
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", PASSWORD)
        with self.page.expect_navigation():
            self.page.press("input[name=password]", "Enter")

    def sign_up_and_log_in(self, username: str) -> None:
        self.submit_account_form("/signup", username)
        self.log_out()
        self.submit_account_form("/login", username)
        assert self.page.url.endswith("/"), self.page.url
        playwright_api.expect(self.page.locator("body")).to_contain_text(username)

    def log_out(self) -> None:
        with self.page.expect_navigation():
            self.page.click("form[action='/logout'] [type=submit]")
        assert "/login" in self.page.url, self.page.url

    def open_chat(self) -> None:
        self.page.goto("/chat")
        playwright_api.expect(self.page.locator("#chat")).to_have_attribute("data-state", "open")

    def say(self, text: str) -> None:
        self.page.fill("#chat-input", text)
        self.page.press("#chat-input", "Enter")

    def sees_message(self, user: str, text: str) -> None:
        line = self.page.locator("#chat-messages li", has_text=text).last
        playwright_api.expect(line).to_contain_text(user)
        playwright_api.expect(line.locator(".chat-text")).to_have_text(text)


def test_sign_up_note_chat_and_log_out_in_a_real_browser(site: str, browser: object, tmp_path: Path) -> None:
    alice, bob = Visitor(browser, site), Visitor(browser, site)
    try:
        alice.sign_up_and_log_in("alice")
        alice.page.goto("/notes")
        alice.page.fill("[name=title]", "Shopping")
        alice.page.fill("[name=body]", "milk <b>and</b> bread")
        alice.page.locator("form:has([name=title]) [type=submit]").click()
        playwright_api.expect(alice.page.locator("body")).to_contain_text("milk <b>and</b> bread")

        bob.sign_up_and_log_in("bob")
        alice.open_chat()
        bob.open_chat()
        alice.say("hello bob <script>alert(1)</script>")
        bob.sees_message("alice", "hello bob <script>alert(1)</script>")
        alice.sees_message("alice", "hello bob <script>alert(1)</script>")
        bob.say("hi alice")
        alice.sees_message("bob", "hi alice")
        shot = tmp_path / "chat.png"
        alice.page.screenshot(path=str(shot), full_page=True)
        if os.environ.get("TKIT_SCREENSHOT_DIR"):
            shutil.copy(shot, Path(os.environ["TKIT_SCREENSHOT_DIR"]) / "chat.png")

        bob.log_out()
        playwright_api.expect(alice.page.locator("#chat")).to_have_attribute("data-state", "open")
        alice.log_out()
        alice.page.goto("/chat")
        assert "/login" in alice.page.url, "the chat page is still served after logout"
        assert alice.errors == [] and bob.errors == [], (alice.errors, bob.errors)
    finally:
        alice.context.close()
        bob.context.close()
