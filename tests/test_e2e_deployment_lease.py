"""Several ``gridbot run --deployment`` processes spread the deployment's tokens, a lease per
token (runtime/spread.py). Here two instances in one test process (the leases and member
slots exclude them as they exclude two processes: flock descriptors of their own, or
PostgreSQL sessions of their own); tests/test_e2e_deployment_processes.py runs real ones."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from community.deployment import Deployment, load_deployment
from localapi import LocalBotApi
from runtime.spread import SpreadDeployment
from storage.leases import lease_key
from tests.support.deployment import (
    ANLE_GROUP,
    ENVIRON,
    TOKEN_A,
    TOKEN_B,
    deployment_database,
    deployment_servers,
    write_deployment,
)
from tests.support.e2e import GROUP_1, RESIDENT, fast_options
from tickets.clock import FakeClock

KEY_A, KEY_B = lease_key(TOKEN_A), lease_key(TOKEN_B)


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, LocalBotApi]]:
    async with deployment_servers() as running:
        yield running


async def _wait_for(predicate: Callable[[], bool], within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def _spread(deployment: Deployment, servers: dict[str, LocalBotApi], clock: FakeClock,
            name: str) -> SpreadDeployment:
    return SpreadDeployment(deployment, ENVIRON, clock=clock,
                            options_for=lambda token: fast_options(servers[token]),
                            tick=0.2, name=name)


async def _reports(spreads: list[SpreadDeployment], community: str) -> list[str]:
    """The reports stored in ``community``'s database, read through its token's holder."""
    for spread in spreads:
        for group in spread.held.values():
            bot = group.bots.get(community)
            if bot is not None and bot.services is not None:
                async with bot.services.db.read() as uow:
                    return sorted(t.text for t in await uow.queries.of_reporter(RESIDENT,
                                                                               limit=10))
    raise AssertionError(f"nobody holds the token of {community}")


async def test_two_processes_spread_the_tokens_and_the_survivor_takes_them_all(
        tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock,
        db_target: str) -> None:
    deployment = load_deployment(
        write_deployment(tmp_path, database=deployment_database(db_target)), environ=ENVIRON)
    first = _spread(deployment, servers, clock, "first")
    second = _spread(deployment, servers, clock, "second")
    api_a, api_b = servers[TOKEN_A], servers[TOKEN_B]
    await first.start()
    try:
        assert sorted(first.held) == sorted([KEY_A, KEY_B])  # alone, it runs every token
        await second.start()
        # Two processes, two tokens: the first gives one back, the second takes it.
        await _wait_for(lambda: len(first.held) == 1 and len(second.held) == 1)
        assert set(first.held) | set(second.held) == {KEY_A, KEY_B}
        assert [e[2] for e in first.events] == ["taken", "taken", "released"]
        polls = {KEY_A: api_a.poll_count, KEY_B: api_b.poll_count}
        await api_a.post(GROUP_1, RESIDENT, "8号楼顶楼漏雨了,家里天花板在滴水")
        await api_b.post(ANLE_GROUP, RESIDENT, "安乐苑5号楼门口的井盖丢了,很危险")
        for api in (api_a, api_b):
            await api.wait_consumed(timeout=10)
        for spread in (first, second):
            await spread.until_idle()
        assert await _reports([first, second], "xingfuli") == ["8号楼顶楼漏雨了,家里天花板在滴水"]
        assert await _reports([first, second], "anle") == ["安乐苑5号楼门口的井盖丢了,很危险"]
        assert api_a.poll_count > polls[KEY_A] and api_b.poll_count > polls[KEY_B]
        for api, group in ((api_a, GROUP_1), (api_b, ANLE_GROUP)):
            cards = [r for r in api.sent(chat_id=group, method="sendMessage")
                     if (r.text or "").startswith("📋 工单 #")]
            assert len(cards) == 1  # one acknowledgement, from the token's one holder

        await second.stop()  # a clean stop gives its token back at once
        await _wait_for(lambda: len(first.held) == 2)
        await api_a.post(GROUP_1, RESIDENT, "3号楼路灯坏了,晚上很黑")
        await api_b.post(ANLE_GROUP, RESIDENT, "安乐苑2号楼电梯坏了")
        for api in (api_a, api_b):
            await api.wait_consumed(timeout=10)
        await first.until_idle()
        assert await _reports([first], "xingfuli") == ["3号楼路灯坏了,晚上很黑",
                                                      "8号楼顶楼漏雨了,家里天花板在滴水"]
        assert await _reports([first], "anle") == ["安乐苑2号楼电梯坏了", "安乐苑5号楼门口的井盖丢了,很危险"]
        # Never two pollers on one token: no getUpdates was ended by another (409).
        assert api_a.poll_conflicts == 0 and api_b.poll_conflicts == 0
    finally:
        await asyncio.gather(first.stop(), second.stop(), return_exceptions=True)


async def test_a_third_process_with_no_token_left_stands_by(
        tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock,
        db_target: str) -> None:
    """Three processes, two tokens: the share is one each, so one of them holds none."""
    deployment = load_deployment(
        write_deployment(tmp_path, database=deployment_database(db_target)), environ=ENVIRON)
    spreads = [_spread(deployment, servers, clock, name) for name in ("a", "b", "c")]
    try:
        for spread in spreads:
            await spread.start()
        await _wait_for(lambda: sorted(len(s.held) for s in spreads) == [0, 1, 1])
        await asyncio.sleep(1.0)  # five ticks: stable, no token given back and forth
        assert sorted(len(s.held) for s in spreads) == [0, 1, 1]
        assert sum(len(s.events) for s in spreads) == 4  # a: 2 taken, 1 released; b or c: 1
        holder = next(s for s in spreads if KEY_A in s.held)
        await holder.stop()  # the standby takes the freed token within a few ticks
        await _wait_for(lambda: all(len(s.held) == 1 for s in spreads if s is not holder))
    finally:
        await asyncio.gather(*(s.stop() for s in spreads), return_exceptions=True)
