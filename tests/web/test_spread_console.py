"""The console of a deployment spread over several processes runs in every process, over
every community's database: a /web link from the bot of a token held by one process can be
opened on another process's console (sessions live in the databases), and that console
shows the community's tickets."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from community.deployment import load_deployment
from localapi import LocalBotApi
from localapi.router import TokenRouter
from runtime.app import BotOptions
from runtime.spread import SpreadDeployment
from storage.leases import lease_key
from tests.support.console_web import login_link
from tests.support.deployment import (
    ANLE_GROUP,
    ANLE_SUPERVISOR,
    ENVIRON,
    TOKEN_B,
    deployment_database,
    deployment_servers,
    write_deployment,
)
from tests.support.e2e import RESIDENT, fast_options
from tickets.clock import FakeClock


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, LocalBotApi]]:
    async with deployment_servers() as running:
        yield running


async def test_every_process_serves_the_console_of_every_community(
        tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock, db_target: str,
        browsers: Any) -> None:
    deployment = load_deployment(
        write_deployment(tmp_path, database=deployment_database(db_target)), environ=ENVIRON)
    async with TokenRouter(servers) as router:
        options = BotOptions(web="127.0.0.1:0", api_url=router.base_url)
        spreads = [SpreadDeployment(
            deployment, ENVIRON, clock=clock, options=options, tick=0.2, name=name,
            options_for=lambda token: replace(fast_options(servers[token]), web="x"))
            for name in ("first", "second")]
        try:
            for spread in spreads:
                await spread.start()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while sorted(len(s.held) for s in spreads) != [1, 1]:
                assert loop.time() < deadline
                await asyncio.sleep(0.05)
            holder = next(s for s in spreads if lease_key(TOKEN_B) in s.held)
            other = next(s for s in spreads if s is not holder)
            assert holder.console is not None and other.console is not None
            assert holder.console.url != other.console.url
            bot = holder.held[lease_key(TOKEN_B)].bots["anle"]
            assert bot.services is not None
            assert bot.services.console_url == holder.console_url  # /web links to its own

            api = servers[TOKEN_B]
            await api.post(ANLE_GROUP, RESIDENT, "安乐苑5号楼门口的井盖丢了 很危险")
            await api.wait_consumed(timeout=10)
            await bot.until_idle()
            link = await login_link(api, bot, ANLE_SUPERVISOR)
            assert holder.console_url is not None and link.startswith(holder.console_url)
            # The same link, opened on the other process's console (behind one address,
            # a reverse proxy may send it to any process).
            browser = await browsers(other.console.url)
            path = link[link.index("/login/"):]
            status, page = await browser.get(path)
            assert status == 200 and "进入工作台" in page, page
            status, page = await browser.post(path)
            assert status == 200, page
            status, page = await browser.get("/tickets")  # the ticket list
            assert status == 200
            assert re.search(r'href="/tickets/[0-9-]+"', page), page[:2000]
            assert "井盖" in page
        finally:
            await asyncio.gather(*(s.stop() for s in spreads), return_exceptions=True)
