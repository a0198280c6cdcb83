"""Balancing many tokens over several processes (runtime/spread.py) with the real leases and
member slots on both backends, and token groups that only take time to start (no bots): the
spread stays within ceil(T / M), and when a process dies every token it held is taken by
the survivors within 30 s at the production tick."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

import runtime.spread
from community.deployment import load_deployment
from runtime.spread import SpreadDeployment
from tests.support.deployment import deployment_database, inline_community

TOKENS = 24
START_SECONDS = 1.0  # what starting a token's communities takes, roughly


def token(index: int) -> str:
    return f"{7_100_000_000 + index}:AAFbalance-test-token-{index:02d}".ljust(46, "0")


ENVIRON = {f"C{i}_BOT_TOKEN": token(i) for i in range(TOKENS)}


def write_many(root: Path, database: str) -> Path:
    parts = [f'[deployment]\nname = "平衡测试街道"\ndatabase = "{database}"\n']
    for i in range(TOKENS):
        parts.append(inline_community(
            f"c{i}", f"社区{i}", f"C{i}_BOT_TOKEN", compound=f"小区{i}", chat=-1004000000000 - i,
            worker=(f"员工{i}", 60000 + i), supervisor=(f"主任{i}", 70000 + i),
            supervisor_roles='"supervisor"'))
    path = root / "deployment.toml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


class SlowGroup:
    """A token's work that takes START_SECONDS to start and does nothing else."""

    def __init__(self, token: str, communities: list[Any], options: Any, clock: Any) -> None:
        from storage.leases import lease_key

        self.key = lease_key(token)

    async def start(self, *args: Any) -> None:
        await asyncio.sleep(START_SECONDS)

    async def stop(self, *, drain_timeout: float = 5.0) -> None:
        await asyncio.sleep(0)

    async def until_idle(self, within: float = 10.0) -> None:
        return None


async def die(spread: SpreadDeployment) -> None:
    """What the system does to a killed process: its loop stops, its locks are freed."""
    if spread._task is not None:
        spread._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await spread._task
    for key in list(spread.held):
        await spread.leases[key].release()
    spread.held.clear()
    await spread.presence.leave()


async def test_many_tokens_spread_and_a_dead_processs_are_taken_within_30_s(
        tmp_path: Path, db_target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.spread, "TokenGroup", SlowGroup)
    deployment = load_deployment(write_many(tmp_path, deployment_database(db_target)),
                                 environ=ENVIRON)
    spreads = [SpreadDeployment(deployment, ENVIRON, name=n, tick=2.0) for n in "abc"]
    loop = asyncio.get_running_loop()

    async def until(predicate: Any, within: float) -> float:
        started = loop.time()
        while not predicate():
            assert loop.time() - started < within, [sorted(s.held) for s in spreads]
            await asyncio.sleep(0.05)
        return loop.time() - started

    try:
        for spread in spreads:
            await spread.start()
        # 24 tokens, 3 processes: 8 each (the share is ceil(24 / 3) = 8, and 3 × 8 = 24).
        await until(lambda: [len(s.held) for s in spreads] == [8, 8, 8], 60)
        held = [set(s.held) for s in spreads]
        assert set().union(*held) == set(spreads[0].leases)
        await asyncio.sleep(4.5)  # two more ticks: nothing moves once balanced
        assert [set(s.held) for s in spreads] == held

        await die(spreads[0])
        survivors = spreads[1:]
        took = await until(lambda: sum(len(s.held) for s in survivors) == TOKENS, 30)
        print(f"{TOKENS // 3} tokens of a dead process taken over after {took:.1f} s")
        assert sorted(len(s.held) for s in survivors) == [12, 12]  # ceil(24 / 2)
        assert not set(survivors[0].held) & set(survivors[1].held)
    finally:
        for spread in spreads:
            await spread.stop()
