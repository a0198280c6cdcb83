"""Fixtures for the staff console: the real bot serving the console on a free port, real
HTTP clients with their own cookie jars, sign-in through /web, and a real Chromium."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
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
from tests.support.console_web import Browser
from tests.support.e2e import example_community, fast_options
from tests.support.tickets import RecordingPresenter
from tickets.clock import FakeClock
from web.app import create_console_app
from web.deps import ConsoleDeps


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
async def console(db_target: str) -> AsyncIterator[Console]:
    clock = FakeClock(NOW)
    config = example_community()
    db = await open_database(db_target, clock=clock)
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
