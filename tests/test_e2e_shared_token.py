"""Two communities on one bot token: one poller, every update handled by its community's
bot and stored in its community's inbox only — groups by config or /bind, private chats
by the person's community, anything else by the first community sharing the token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram import Update

from community.deployment import load_deployment
from localapi import LocalBotApi
from localapi.testing import running_server
from runtime.app import BotOptions
from runtime.deployment import DeploymentRuntime
from runtime.shared_token import TokenRouter
from tests.support.deployment import (
    ANLE_GROUP,
    ANLE_SUPERVISOR,
    ANLE_WORKER,
    TOKEN_A,
    deployment_database,
    write_deployment,
)
from tests.support.e2e import GROUP_1, RESIDENT, SUPERVISOR, WORKER_1, fast_options
from tickets.clock import FakeClock
from ui import texts

SHARED = {"XINGFULI_BOT_TOKEN": TOKEN_A, "ANLE_BOT_TOKEN": TOKEN_A}
NEW_GROUP = -1002000000099  # not in any config


@pytest.fixture
async def server() -> AsyncIterator[LocalBotApi]:
    async with running_server(token=TOKEN_A) as api:
        for user in (WORKER_1, SUPERVISOR, ANLE_WORKER, ANLE_SUPERVISOR):
            api.user(user, f"员工{user}", started=True)
        api.user(RESIDENT, "张阿姨")
        everyone = [WORKER_1, SUPERVISOR, ANLE_WORKER, ANLE_SUPERVISOR, RESIDENT]
        api.group(GROUP_1, "幸福里一网格群", admins=[SUPERVISOR], members=everyone)
        api.group(ANLE_GROUP, "安乐一网格群", admins=[ANLE_SUPERVISOR], members=everyone)
        api.group(NEW_GROUP, "安乐新群", admins=[ANLE_SUPERVISOR], members=everyone)
        yield api


@pytest.fixture
async def runtime(tmp_path: Path, server: LocalBotApi, clock: FakeClock,
                  db_target: str) -> AsyncIterator[DeploymentRuntime]:
    path = write_deployment(tmp_path, database=deployment_database(db_target))
    deployment = load_deployment(path, environ=SHARED)
    running = DeploymentRuntime(deployment, SHARED, clock=clock, options=fast_options(server))
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def settle(server: LocalBotApi, runtime: DeploymentRuntime) -> None:
    await server.wait_consumed(timeout=10)
    await runtime.until_idle()


async def reported(runtime: DeploymentRuntime, key: str) -> list[str]:
    services = runtime.bot(key).services
    assert services is not None
    async with services.db.read() as uow:
        return [t.text for t in await uow.queries.of_reporter(RESIDENT, limit=10)]


async def test_one_poller_and_reports_go_to_their_community(
        runtime: DeploymentRuntime, server: LocalBotApi) -> None:
    assert len(runtime.pollers) == 1
    assert [bot.options.poll for bot in runtime.bots.values()] == [False, False]
    await server.post(GROUP_1, RESIDENT, "8号楼顶楼漏雨了,家里天花板在滴水")
    await server.post(ANLE_GROUP, RESIDENT, "安乐苑5号楼门口的井盖丢了 很危险")
    await settle(server, runtime)
    assert await reported(runtime, "xingfuli") == ["8号楼顶楼漏雨了,家里天花板在滴水"]
    assert await reported(runtime, "anle") == ["安乐苑5号楼门口的井盖丢了 很危险"]
    briefs = [r.text or "" for r in server.sent(ANLE_WORKER, "sendMessage")]
    assert any("井盖" in text for text in briefs) and not any("漏雨" in t for t in briefs)


async def test_private_chats_go_to_the_persons_community(
        runtime: DeploymentRuntime, server: LocalBotApi) -> None:
    await server.post(ANLE_GROUP, RESIDENT, "安乐苑3号楼楼道里有人给电动车充电")
    await settle(server, runtime)
    server.clear_sent()
    await server.start_private(RESIDENT)
    await server.command(RESIDENT, RESIDENT, "/my")
    await settle(server, runtime)
    answers = [r.text or "" for r in server.sent(RESIDENT, "sendMessage")]
    assert answers and texts.MY_NONE not in answers, "安乐 answers: it knows her report"
    assert any("电动车" in a or "充电" in a for a in answers)

    await server.start_private(ANLE_WORKER)
    await settle(server, runtime)
    for key, expected in (("anle", True), ("xingfuli", False)):
        services = runtime.bot(key).services
        assert services is not None
        async with services.db.read() as uow:
            assert (await uow.people.get(ANLE_WORKER) is not None) is expected


async def test_bind_in_a_new_group_reaches_the_admins_community(
        runtime: DeploymentRuntime, server: LocalBotApi) -> None:
    await server.command(NEW_GROUP, ANLE_SUPERVISOR, "/bind 安乐一网格")
    await settle(server, runtime)
    for key, bound in (("anle", "安乐一网格"), ("xingfuli", None)):
        services = runtime.bot(key).services
        assert services is not None
        async with services.db.read() as uow:
            assert await uow.chats.grid_of(NEW_GROUP) == bound
    await server.post(NEW_GROUP, RESIDENT, "安乐苑7号楼电梯坏了 老人下不了楼")
    await settle(server, runtime)
    assert await reported(runtime, "anle") == ["安乐苑7号楼电梯坏了 老人下不了楼"]
    assert await reported(runtime, "xingfuli") == []


async def test_the_router_without_a_match_picks_the_first_community(tmp_path: Path) -> None:
    deployment = load_deployment(write_deployment(tmp_path), environ=SHARED)
    runtime = DeploymentRuntime(deployment, SHARED, options=BotOptions(rate_limit=False))
    router = TokenRouter(runtime.bots)

    def update(chat: int, chat_type: str, user: int) -> Update:
        return Update.de_json({"update_id": 1, "message": {
            "message_id": 1, "date": 0, "text": "你好",
            "chat": {"id": chat, "type": chat_type, "title": "群"},
            "from": {"id": user, "is_bot": False, "first_name": "某人"}}}, None)

    assert await router.route(update(ANLE_GROUP, "supergroup", WORKER_1)) == "anle"
    assert await router.route(update(GROUP_1, "supergroup", ANLE_WORKER)) == "xingfuli"
    assert await router.route(update(NEW_GROUP, "supergroup", ANLE_WORKER)) == "anle"
    assert await router.route(update(ANLE_WORKER, "private", ANLE_WORKER)) == "anle"
    assert await router.route(update(NEW_GROUP, "supergroup", RESIDENT)) == "xingfuli"
    assert await router.route(update(RESIDENT, "private", RESIDENT)) == "xingfuli"
