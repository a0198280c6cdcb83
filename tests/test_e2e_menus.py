"""Per-person command menus: set at /start, updated at start-up only when a role changed.

Telegram refuses a chat-scoped menu ("chat not found") until the person has started the
bot; localapi does the same, so these tests meet that path as production does.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from telegram import BotCommandScopeChat

from community import CommunityConfig, Role
from handlers.menus import SUPERVISOR_COMMANDS, WORKER_COMMANDS
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.app import GridBot
from tests.support.e2e import GROUP_1, RESIDENT, SUPERVISOR, WORKER_1, WORKER_2, fast_options
from tickets.clock import FakeClock


def names(server: LocalBotApi, user_id: int) -> list[str]:
    return [c["command"] for c in server.commands(BotCommandScopeChat(user_id))]


def chat_scoped_calls(server: LocalBotApi) -> list[int]:
    """chat ids of every setMyCommands/deleteMyCommands call with a chat scope."""
    return [r.params["scope"]["chat_id"] for r in server.store.requests
            if r.method in ("setMyCommands", "deleteMyCommands")
            and isinstance(r.params.get("scope"), dict)
            and r.params["scope"].get("type") == "chat"]


@pytest.fixture
async def bare_server() -> AsyncIterator[LocalBotApi]:
    """Only the secretary opened the private chat before; the workers have not."""
    async with running_server() as api:
        api.user(SUPERVISOR, "张书记", username="zhang_shuji", started=True)
        api.user(WORKER_1, "王芳", username="wangfang_grid")
        api.user(WORKER_2, "李强", username="liqiang_grid")
        api.user(RESIDENT, "张阿姨")
        api.group(GROUP_1, "阳光花园一网格群", members=[SUPERVISOR, WORKER_1, WORKER_2, RESIDENT])
        yield api


async def run_once(server: LocalBotApi, config: CommunityConfig, clock: FakeClock,
                   db_path: str) -> GridBot:
    bot = GridBot(config, server.token, db_path, clock=clock, options=fast_options(server))
    await bot.start()
    return bot


async def test_staff_menu_is_set_when_they_start_the_bot_and_quietly_waits_before(
    bare_server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = bare_server
    caplog.set_level(logging.DEBUG)
    bot = await run_once(server, community, clock, db_path)
    try:
        assert names(server, SUPERVISOR) == [c for c, _ in SUPERVISOR_COMMANDS]
        assert names(server, WORKER_1) == []  # "chat not found": not started yet
        refused = [r for r in server.store.requests
                   if r.method == "setMyCommands" and r.error is not None]
        assert refused and all("chat not found" in str(r.error) for r in refused)
        noisy = [r for r in caplog.records
                 if r.name.startswith("handlers") and r.levelno >= logging.WARNING]
        assert noisy == []
        await server.start_private(WORKER_1)
        await server.wait_sent(chat_id=WORKER_1, method="sendMessage")
        await bot.until_idle()
        assert names(server, WORKER_1) == [c for c, _ in WORKER_COMMANDS]
        await server.start_private(RESIDENT)  # a resident keeps the default menu
        await server.wait_sent(chat_id=RESIDENT, method="sendMessage")
        await bot.until_idle()
        assert names(server, RESIDENT) == []
        assert RESIDENT not in chat_scoped_calls(server)
    finally:
        await bot.stop()


async def test_start_up_updates_only_menus_whose_role_changed(
    bare_server: LocalBotApi, community: CommunityConfig, clock: FakeClock, db_path: str,
) -> None:
    server = bare_server
    server.user(WORKER_1, "王芳", username="wangfang_grid", started=True)
    await (await run_once(server, community, clock, db_path)).stop()
    assert names(server, WORKER_1) == [c for c, _ in WORKER_COMMANDS]
    assert sorted(set(chat_scoped_calls(server))) >= [SUPERVISOR, WORKER_1]

    # Same config: a restart sets no per-person menu at all.
    server.store.requests.clear()
    await (await run_once(server, community, clock, db_path)).stop()
    assert [i for i in chat_scoped_calls(server) if i in (SUPERVISOR, WORKER_1)] == []

    # 王芳 becomes a supervisor, 张书记 leaves the staff: exactly those two menus change.
    people = []
    for person in community.people:
        if person.telegram_id == WORKER_1:
            person = replace(person, roles=frozenset({Role.WORKER, Role.SUPERVISOR}))
        if person.telegram_id != SUPERVISOR:
            people.append(person)
    changed = replace(community, people=tuple(people))
    server.store.requests.clear()
    await (await run_once(server, changed, clock, db_path)).stop()
    calls = [i for i in chat_scoped_calls(server) if i in (SUPERVISOR, WORKER_1)]
    assert sorted(calls) == [SUPERVISOR, WORKER_1]
    assert names(server, WORKER_1) == [c for c, _ in SUPERVISOR_COMMANDS]
    assert names(server, SUPERVISOR) == []  # back to the resident menu
