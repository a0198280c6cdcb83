"""Shared fixtures: a community, a fake clock, the local Bot API server and a running bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from community import CommunityConfig, example_config_text, parse_config
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.app import BotOptions, GridBot
from tickets.clock import FakeClock

# Ids of the example community (community/example.toml).
GROUP_1 = -1001000000001  # 第一网格: 阳光花园 1-12号楼, 临江路 2-6幢
GROUP_2 = -1001000000002  # 第二网格: 阳光花园 13-20号楼, 翠苑小区
WORKER_1, WORKER_2, SUPERVISOR, POLICE = 1001, 1002, 1000, 1003
RESIDENT, RESIDENT_2, RESIDENT_3 = 2001, 2002, 2003
# Tuesday 2026-11-24 10:00 in Shanghai: inside working hours, no holiday near.
TUESDAY_MORNING = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


# Vague messages that the bot asks about ("登记为工单?") rather than files. Which of them reads
# as borderline depends on the trained character model, so the tests of the question flow take
# the first one that does (and fail if none does).
VAGUE_MESSAGES = (
    "有没有人觉得最近晚上有点吵", "感觉最近水压有点小", "最近楼道有点脏", "最近垃圾桶是不是有点满",
    "最近是不是有点吵啊", "感觉小区里的路灯有点暗", "最近楼下是不是有点味道", "是不是只有我觉得最近有点吵",
)


def borderline_example() -> tuple[str, str | None]:
    """(text, the category the parser gives it) of the first vague message read as borderline."""
    import nlp
    from runtime.lexicon import lexicon_from_config

    lexicon = lexicon_from_config(example_community())
    for text in VAGUE_MESSAGES:
        result = nlp.parse(text, lexicon)
        if result.borderline and result.urgency != "emergency":
            return text, result.category
    raise AssertionError("none of VAGUE_MESSAGES reads as borderline any more: add one that does")


def example_community() -> CommunityConfig:
    import tomllib

    config, problems = parse_config(tomllib.loads(example_config_text()))
    assert problems == []
    return config


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


def fast_options(server: LocalBotApi, **overrides: object) -> BotOptions:
    values: dict[str, object] = {
        "api_url": server.base_url, "poll_timeout": 1, "request_timeout": 5.0,
        "outbox_idle_poll": 0.05, "scheduler_tick": 0.0, "rate_limit": False,
    }
    values.update(overrides)
    return BotOptions(**values)  # type: ignore[arg-type]


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "gridbot.db")


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
