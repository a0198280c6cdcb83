"""Shared fixtures: a community, a fake clock, the local Bot API server and a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from community import CommunityConfig
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.app import GridBot
from tests.support.backends import database_target
from tests.support.e2e import (
    GROUP_1,
    GROUP_2,
    POLICE,
    RESIDENT,
    RESIDENT_2,
    RESIDENT_3,
    SUPERVISOR,
    TUESDAY_MORNING,
    WORKER_1,
    WORKER_2,
    example_community,
    fast_options,
)
from tickets.clock import FakeClock


@pytest.fixture
def community() -> CommunityConfig:
    return example_community()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TUESDAY_MORNING)


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with running_server() as api:
        # Staff opened their private chat with the bot before the test began; residents did
        # not, so private sends to them answer 403 as on Telegram (strict_private).
        api.user(WORKER_1, "王芳", username="wangfang_grid", started=True)
        api.user(WORKER_2, "李强", username="liqiang_grid", started=True)
        api.user(SUPERVISOR, "张书记", username="zhang_shuji", started=True)
        api.user(POLICE, "刘警官", started=True)
        api.user(RESIDENT, "张阿姨")
        api.user(RESIDENT_2, "老李")
        api.user(RESIDENT_3, "小陈", username="xiaochen")
        members = [WORKER_1, WORKER_2, SUPERVISOR, POLICE, RESIDENT, RESIDENT_2, RESIDENT_3]
        api.group(GROUP_1, "阳光花园一网格群", admins=[SUPERVISOR], members=members)
        api.group(GROUP_2, "翠苑二网格群", admins=[SUPERVISOR], members=members)
        yield api


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return database_target(tmp_path)


@pytest.fixture
async def gridbot(
    server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str
) -> AsyncIterator[GridBot]:
    bot = GridBot(community, server.token, db_path, clock=clock, options=fast_options(server))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
