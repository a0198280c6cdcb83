"""Fixtures for the staff console: the real bot serving the console on a free port, real
HTTP clients with their own cookie jars, sign-in through /web, and a real Chromium."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from community import CommunityConfig
from localapi import LocalBotApi
from runtime.app import GridBot
from services import TicketService
from storage import open_database
from tests.support.console_http import NOW, Console
from tests.support.e2e import example_community, fast_options
from tests.support.tickets import RecordingPresenter
from tickets.clock import FakeClock
from web.app import create_console_app
from web.deps import ConsoleDeps

LINK_RE = re.compile(r"(https?://\S+/login/(\S+))")
CSRF_RE = re.compile(r'name="_csrf" value="([^"]+)"')


@pytest.fixture
async def console_bot(server: LocalBotApi, community: CommunityConfig, clock: FakeClock,
                      db_path: str) -> AsyncIterator[GridBot]:
    """The real bot with its console on 127.0.0.1 (a free port), as `gridbot run --web`."""
    bot = GridBot(community, server.token, db_path, clock=clock,
                  options=fast_options(server, web="127.0.0.1:0"))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()


def console_url(bot: GridBot) -> str:
    assert bot.console is not None
    return bot.console.url


async def login_link(server: LocalBotApi, bot: GridBot, user_id: int) -> str:
    """Send /web in the user's private chat and return the link the bot sent back."""
    before = len(server.sent(chat_id=user_id, method="sendMessage"))
    await server.command(user_id, user_id, "/web")
    await server.wait_consumed()
    await bot.until_idle()
    sent = server.sent(chat_id=user_id, method="sendMessage")[before:]
    for request in reversed(sent):
        match = LINK_RE.search(request.text or "")
        if match:
            return match.group(1)
    raise AssertionError(f"no login link in {[r.text for r in sent]}")


@dataclass
class Browser:
    """A real HTTP client with its own cookies (one per simulated person)."""

    session: aiohttp.ClientSession
    base: str
    csrf: str = ""

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(self.base + path, **kwargs) as response:
            text = await response.text()
            if match := CSRF_RE.search(text):
                self.csrf = match.group(1)
            return response.status, text

    async def post(self, path: str, data: dict[str, str] | None = None, *,
                   csrf: str | None = None, **kwargs: Any) -> tuple[int, str]:
        form = dict(data or {})
        token = self.csrf if csrf is None else csrf
        if token:
            form["_csrf"] = token
        async with self.session.post(self.base + path, data=form, **kwargs) as response:
            text = await response.text()
            if match := CSRF_RE.search(text):
                self.csrf = match.group(1)
            return response.status, text


@pytest.fixture
async def browsers() -> AsyncIterator[Any]:
    """``await browsers(base_url)`` → a fresh :class:`Browser`; all closed at the end."""
    opened: list[aiohttp.ClientSession] = []

    async def make(base: str) -> Browser:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        opened.append(session)
        return Browser(session, base)
    yield make
    for session in opened:
        await session.close()


async def signed_in(server: LocalBotApi, bot: GridBot, make: Any, user_id: int) -> Browser:
    """A browser signed in as ``user_id`` through the real link flow."""
    link = await login_link(server, bot, user_id)
    browser: Browser = await make(console_url(bot))
    path = link[link.index("/login/"):]
    status, page = await browser.get(path)
    assert status == 200 and "进入工作台" in page, page
    status, page = await browser.post(path)
    assert status == 200, page
    return browser


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium driven by Playwright (async API: the bot runs on the test's
    event loop). Fails, never skips, when the browser cannot start."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium",
                                          args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
def screenshot_dir(tmp_path: Path) -> Path:
    target = Path(os.environ.get("GRIDBOT_SCREENSHOTS") or tmp_path / "screenshots")
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[Console]:
    clock = FakeClock(NOW)
    config = example_community()
    db = await open_database(tmp_path / "console.db", clock=clock)
    service = TicketService(db, config, clock, RecordingPresenter())
    app = create_console_app(ConsoleDeps(db=db, config=config, clock=clock, service=service))
    server = TestServer(app)
    await server.start_server()
    c = Console(db, config, clock, server)
    try:
        yield c
    finally:
        for client in c._clients:
            await client.close()
        await server.close()
        await db.close()
