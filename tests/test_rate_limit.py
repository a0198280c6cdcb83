"""The sliding-window rate limiter never lets a window of Telegram's length overflow."""

from __future__ import annotations

import asyncio

from delivery.rate_limit import SlidingWindowRateLimiter, is_group_chat


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _count_allowed(limiter: SlidingWindowRateLimiter, chat: int, seconds: float,
                         clock: FakeTime, attempts: int) -> list[float]:
    """Try ``attempts`` sends; return the fake times at which each got through."""
    times: list[float] = []

    async def one() -> None:
        await limiter.acquire(chat)
        times.append(clock.now)

    tasks = [asyncio.create_task(one()) for _ in range(attempts)]
    end = clock.now + seconds
    while clock.now < end and not all(t.done() for t in tasks):
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        clock.now += 0.25
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return times


async def yield_only(delay: float) -> None:
    """The limiter's waits: fake time moves in the test loop instead."""
    await asyncio.sleep(0)


async def test_group_windows_never_hold_more_than_twenty() -> None:
    clock = FakeTime()
    limiter = SlidingWindowRateLimiter(clock=clock, margin=0.0, sleep=yield_only)
    times = await _count_allowed(limiter, -100, 180, clock, attempts=70)
    assert times[:20] == [1000.0] * 20  # an idle group gets its burst at once
    for start in times:
        in_window = [t for t in times if start <= t < start + 60]
        assert len(in_window) <= 20
    assert len(times) >= 55  # and it keeps going at the limit, not slower


async def test_overall_limit_and_private_chats() -> None:
    clock = FakeTime()
    limiter = SlidingWindowRateLimiter(clock=clock, margin=0.0, overall_per_second=30,
                                       sleep=yield_only)
    times = await _count_allowed(limiter, 4242, 3, clock, attempts=100)
    for start in times:
        assert len([t for t in times if start <= t < start + 1.0]) <= 30
    assert len(times) >= 60  # private chats are not held to the group limit


def test_group_detection() -> None:
    assert is_group_chat(-100123) and is_group_chat("@channel") and is_group_chat("-5")
    assert not is_group_chat(42) and not is_group_chat(None)


async def test_seeded_sends_of_an_earlier_process_count_in_the_window() -> None:
    """Issue 16 item 1: after a restart the group's last minute is not forgotten."""
    clock = FakeTime()
    limiter = SlidingWindowRateLimiter(clock=clock, margin=0.0, sleep=yield_only)
    taken = limiter.seed([(-100, 30.0)] * 15 + [(-100, 61.0), (4242, 10.0)])
    assert taken == 16  # the 61-second-old send has left the window
    assert len(limiter.group_sends(-100)) == 15
    times = await _count_allowed(limiter, -100, 40, clock, attempts=10)
    assert times[:5] == [1000.0] * 5  # only the remainder of the minute at once
    assert all(t >= 1030.0 for t in times[5:])  # the rest when the seeded sends age out
    assert len(times) == 10
