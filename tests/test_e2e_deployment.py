"""``gridbot run --deployment`` in one process: two communities, two tokens, two local Bot
API servers. A report in 幸福里's group becomes a ticket in 幸福里's database only; 安乐's
bot and worker never see it, and the other way round."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from community.deployment import Deployment, load_deployment
from localapi import LocalBotApi
from runtime.app import StartupError
from runtime.deployment import DeploymentRuntime
from tests.support.deployment import (
    ANLE_GROUP,
    ANLE_WORKER,
    ENVIRON,
    TOKEN_A,
    TOKEN_B,
    deployment_database,
    deployment_servers,
    running_deployment,
    write_deployment,
)
from tests.support.e2e import GROUP_1, RESIDENT, WORKER_1
from tickets.clock import FakeClock


@pytest.fixture
def deployment(tmp_path: Path, db_target: str) -> Deployment:
    return load_deployment(write_deployment(tmp_path, database=deployment_database(db_target)),
                           environ=ENVIRON)


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, LocalBotApi]]:
    async with deployment_servers() as running:
        yield running


@pytest.fixture
async def runtime(tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock,
                  db_target: str) -> AsyncIterator[DeploymentRuntime]:
    async with running_deployment(tmp_path, servers, clock,
                                  database=deployment_database(db_target)) as running:
        yield running


async def _tickets(runtime: DeploymentRuntime, key: str) -> list[str]:
    services = runtime.bot(key).services
    assert services is not None
    async with services.db.read() as uow:
        return [t.text for t in await uow.queries.of_reporter(RESIDENT, limit=10)]


async def test_each_community_has_its_own_bot_and_database(
        runtime: DeploymentRuntime, deployment: Deployment) -> None:
    assert list(runtime.bots) == ["xingfuli", "anle"]
    places = {key: (bot.db_path, bot.schema) for key, bot in runtime.bots.items()}
    assert places == {c.key: (c.db, c.schema) for c in deployment.communities}
    assert len(set(places.values())) == 2  # two SQLite files, or two schemas of one database
    for bot in runtime.bots.values():
        assert bot.services is not None
        async with bot.services.db.read() as uow:  # each one open and migrated
            assert await uow.inbox.pending(limit=1) == []


async def test_a_report_stays_in_its_community(
        runtime: DeploymentRuntime, servers: dict[str, LocalBotApi]) -> None:
    a, b = servers[TOKEN_A], servers[TOKEN_B]
    b.clear_sent()
    await a.post(GROUP_1, RESIDENT, "8号楼顶楼漏雨了,家里天花板在滴水")
    await a.wait_consumed(timeout=10)
    await runtime.until_idle()
    assert await _tickets(runtime, "xingfuli") == ["8号楼顶楼漏雨了,家里天花板在滴水"]
    assert await _tickets(runtime, "anle") == []
    assert a.sent(WORKER_1, "sendMessage"), "幸福里's worker gets the ticket"
    assert b.sent() == [], "安乐's bot sends nothing"

    await b.post(ANLE_GROUP, RESIDENT, "安乐苑3号楼楼道里有人给电动车充电")
    await b.wait_consumed(timeout=10)
    await runtime.until_idle()
    assert await _tickets(runtime, "anle") == ["安乐苑3号楼楼道里有人给电动车充电"]
    assert len(await _tickets(runtime, "xingfuli")) == 1
    assert b.sent(ANLE_WORKER, "sendMessage")
    assert not a.sent(ANLE_WORKER)


async def test_ticket_numbers_are_per_community(
        runtime: DeploymentRuntime, servers: dict[str, LocalBotApi]) -> None:
    await servers[TOKEN_A].post(GROUP_1, RESIDENT, "3号楼路灯坏了,晚上很黑")
    await servers[TOKEN_B].post(ANLE_GROUP, RESIDENT, "安乐苑5号楼路灯坏了,晚上很黑")
    for api in servers.values():
        await api.wait_consumed(timeout=10)
    await runtime.until_idle()
    numbers = []
    for key in ("xingfuli", "anle"):
        services = runtime.bot(key).services
        assert services is not None
        async with services.db.read() as uow:
            [ticket] = await uow.queries.of_reporter(RESIDENT, limit=5)
        numbers.append(ticket.number)
    assert numbers[0] == numbers[1], "each community numbers its own tickets from the start"


def test_an_unset_token_is_refused_with_a_sentence(deployment: Deployment) -> None:
    with pytest.raises(StartupError, match="令牌环境变量未设置"):
        DeploymentRuntime(deployment, {"XINGFULI_BOT_TOKEN": TOKEN_A})
