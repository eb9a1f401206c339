"""In a real browser: the chat page says when Redis is down, and chat.js reconnects after a worker restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_api
import pytest
from support import free_port, launch_chromium

from scale.harness import Client, Process, RedisServer, start_worker

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.slow


def test_chat_page_reports_outages_and_recovers(tmp_path: Path) -> None:
    from tornado_kit.new import new_project

    project = tmp_path / "mysite"
    new_project("mysite", project, redis=True)
    redis = RedisServer(tmp_path)
    port = free_port()
    env = {"REDIS_URL": redis.url}
    workers: list[Process] = []
    try:
        redis.start()
        workers.append(start_worker(project, port, env, tmp_path / "worker.log"))
        base = f"http://127.0.0.1:{port}"
        client = Client()
        asyncio.run(client.sign_up(base, "alice", PASSWORD))
        with chat_page(base, client.jar["session"].value) as page:
            check_redis_outage(page, redis)
            workers.pop().stop()  # its sockets close with 1001; chat.js retries with backoff
            playwright_api.expect(page.locator("#chat-status")).to_contain_text("reconnecting")
            workers.append(start_worker(project, port, env, tmp_path / "worker2.log"))
            playwright_api.expect(page.locator("#chat")).to_have_attribute("data-state", "open")
            send(page, "reconnected")
            playwright_api.expect(page.locator("#chat-messages .chat-message").last).to_contain_text("reconnected")
    finally:
        for worker in workers:
            worker.stop()
        redis.stop()


@contextlib.contextmanager
def chat_page(base: str, session: str) -> Iterator[playwright_api.Page]:
    """Headless Chromium on /chat, signed in with the `session` cookie value."""
    with playwright_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            context = browser.new_context(base_url=base)
            context.add_cookies([{"name": "session", "value": session, "url": base}])
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto("/chat")
            yield page
        finally:
            browser.close()


def check_redis_outage(page: playwright_api.Page, redis: RedisServer) -> None:
    """Redis down: the page says so and a message fails visibly; Redis back: chat works again."""
    expect, room, status = playwright_api.expect, page.locator("#chat"), page.locator("#chat-status")
    expect(room).to_have_attribute("data-state", "open")
    redis.stop()
    expect(room).to_have_attribute("data-state", "unavailable")
    expect(status).to_contain_text("unavailable")
    send(page, "while redis is down")
    expect(page.locator("#chat-messages .chat-error").last).to_contain_text("unavailable")
    redis.start()
    expect(room).to_have_attribute("data-state", "open")
    send(page, "redis is back")
    expect(page.locator("#chat-messages .chat-message").last).to_contain_text("redis is back")


def send(page: playwright_api.Page, text: str) -> None:
    page.fill("#chat-input", text)
    page.press("#chat-input", "Enter")
