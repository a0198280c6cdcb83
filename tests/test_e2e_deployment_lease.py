"""Several ``gridbot run --deployment`` processes: one holds the deployment's lease and runs
every community; another started with the same file stands by and takes over when the first
stops (here: two leased runs in one test process; the lease excludes them as it excludes
two processes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from community.deployment import Deployment, load_deployment
from localapi import LocalBotApi
from runtime.app import BotOptions
from runtime.deployment import DeploymentRuntime, deployment_lease, serve_leased_deployment
from tests.support.deployment import (
    ENVIRON,
    TOKEN_A,
    deployment_database,
    deployment_servers,
    write_deployment,
)
from tests.support.e2e import GROUP_1, RESIDENT, fast_options
from tickets.clock import FakeClock


@pytest.fixture
async def servers() -> AsyncIterator[dict[str, LocalBotApi]]:
    async with deployment_servers() as running:
        yield running


async def _wait_for(predicate: object, within: float = 15.0) -> None:
    assert callable(predicate)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        assert loop.time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


async def test_a_standby_deployment_takes_over_when_the_holder_stops(
        tmp_path: Path, servers: dict[str, LocalBotApi], clock: FakeClock,
        db_target: str) -> None:
    deployment: Deployment = load_deployment(
        write_deployment(tmp_path, database=deployment_database(db_target)), environ=ENVIRON)
    made: list[tuple[str, DeploymentRuntime]] = []

    def maker(name: str) -> DeploymentRuntime:
        runtime = DeploymentRuntime(deployment, ENVIRON, clock=clock, options=BotOptions(),
                                    options_for=lambda token: fast_options(servers[token]))
        made.append((name, runtime))
        return runtime

    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(serve_leased_deployment(
        lambda: maker("first"), deployment_lease(deployment), first_stop, retry=0.2, check=0.2))
    await _wait_for(lambda: [n for n, _ in made] == ["first"])
    second = asyncio.create_task(serve_leased_deployment(
        lambda: maker("second"), deployment_lease(deployment), second_stop,
        retry=0.2, check=0.2))
    try:
        await asyncio.sleep(1.0)  # five retries: the second stands by
        assert [n for n, _ in made] == ["first"]
        first_runtime = made[0][1]
        await _wait_for(lambda: all(b.services is not None
                                    for b in first_runtime.bots.values()))
        api = servers[TOKEN_A]
        await api.post(GROUP_1, RESIDENT, "8号楼顶楼漏雨了,家里天花板在滴水")
        await api.wait_consumed(timeout=10)
        await first_runtime.until_idle()

        first_stop.set()
        await first
        await _wait_for(lambda: [n for n, _ in made] == ["first", "second"])
        second_runtime = made[1][1]
        await _wait_for(lambda: all(b.services is not None
                                    for b in second_runtime.bots.values()))
        await api.post(GROUP_1, RESIDENT, "3号楼路灯坏了,晚上很黑")
        await api.wait_consumed(timeout=10)
        await second_runtime.until_idle()
        services = second_runtime.bot("xingfuli").services
        assert services is not None
        async with services.db.read() as uow:
            texts = sorted(t.text for t in await uow.queries.of_reporter(RESIDENT, limit=10))
        assert texts == ["3号楼路灯坏了,晚上很黑", "8号楼顶楼漏雨了,家里天花板在滴水"]
    finally:
        first_stop.set()
        second_stop.set()
        await asyncio.gather(first, second, return_exceptions=True)
