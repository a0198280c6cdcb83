"""The APScheduler ticker: start() on the running loop calls tick(), stop() ends it."""

from __future__ import annotations

import asyncio

from scheduler import GridScheduler
from tests.support.scheduler import harness, local
from tests.support.tickets import CONFIG


async def test_ticker_runs_ticks_until_stopped(db_target: str) -> None:
    async with harness(db_target, CONFIG, local(2026, 9, 1, 10)) as h:
        ticks = 0
        scheduler = GridScheduler(h.services, tick_seconds=0.02)
        real_tick = scheduler.tick

        async def counting_tick():  # type: ignore[no-untyped-def]
            nonlocal ticks
            ticks += 1
            return await real_tick()

        scheduler.tick = counting_tick  # type: ignore[method-assign]
        scheduler.start()
        assert scheduler.running
        for _ in range(100):  # at most a second; usually a few hundredths
            if ticks >= 2:
                break
            await asyncio.sleep(0.01)
        await scheduler.stop()
        assert ticks >= 2 and not scheduler.running
        stopped_at = ticks
        await asyncio.sleep(0.06)
        assert ticks == stopped_at
        # The first tick recorded when the scheduler first saw each job.
        async with h.db.read() as r:
            assert await r.job_runs.last_due("since:digest-all") == local(2026, 9, 1, 10)


async def test_a_failing_part_does_not_stop_the_others(db_target: str) -> None:
    async with harness(db_target, CONFIG, local(2026, 9, 1, 10)) as h:
        async def broken(now):  # type: ignore[no-untyped-def]
            raise RuntimeError("boom")

        h.scheduler._ladder.run = broken  # type: ignore[method-assign]
        report = await h.tick()
        assert report.errors and "boom" in report.errors[0]
        async with h.db.read() as r:  # the recurring part still ran
            assert await r.job_runs.last_due("since:digest-all") is not None
