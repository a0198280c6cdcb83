"""Broadcasts on a schedule (config and /schedule), in every expression form, targeted at
one grid or all groups; the stale rule across downtime; restarts never repeat one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

import pytest

from community.model import Broadcast, CommunityConfig
from scheduler.occurrences import pending_occurrence
from services.schedules import parse_schedule
from tests.support.scheduler import harness, local, minutes
from tests.support.tickets import CHAT_A, CHAT_B, CHAT_C, CONFIG, GRID_A, GRID_B, GRID_C

T0 = local(2026, 9, 1, 10)  # Tuesday


def with_broadcasts(*items: Broadcast) -> CommunityConfig:
    return replace(CONFIG, broadcasts=items)


@pytest.mark.parametrize(("when", "first"), [
    ("每天 08:00", local(2026, 9, 2, 8)),
    ("每周五 10:00", local(2026, 9, 4, 10)),  # dumplings for elders living alone
    ("每月3,13,23日 09:00", local(2026, 9, 3, 9)),  # free haircuts
    ("2026-09-05 20:00", local(2026, 9, 5, 20)),
    ("cron: 30 18 * * 1", local(2026, 9, 7, 18, 30)),  # Monday
])
async def test_each_form_fires_at_its_time_once(db_target: str, when: str,
                                                first: datetime) -> None:
    config = with_broadcasts(Broadcast(when, "免费理发,社区活动室", grids=(GRID_B,)))
    async with harness(db_target, config, T0) as h:
        await h.tick()  # first start: nothing from the past
        await h.tick(first - minutes(1))
        assert await h.rows("broadcast") == []
        await h.tick(first)
        [row] = await h.rows("broadcast")
        assert row.message.chat_id == CHAT_B
        assert row.message.text == "📢 社区通知\n免费理发,社区活动室"
        assert row.message.parse_mode is None  # admin text goes out verbatim
        await h.tick(first + minutes(1))
        h.restart()
        await h.tick(first + minutes(2))
        assert len(await h.rows("broadcast")) == 1


async def test_monthly_form_fires_on_each_listed_day(db_target: str) -> None:
    config = with_broadcasts(Broadcast("每月3,13,23日 09:00", "免费理发"))
    async with harness(db_target, config, T0) as h:
        await h.tick()
        for day in range(2, 25):
            await h.tick(local(2026, 9, day, 9, 1))
        days = sorted({r.message.dedupe_key.split(":")[3][:10]
                       for r in await h.rows("broadcast")})
        # Keys carry the UTC due time: 09:00 Shanghai is 01:00 UTC on the same day.
        assert days == ["2026-09-03", "2026-09-13", "2026-09-23"]


async def test_untargeted_broadcast_reaches_every_group_including_bound_ones(
        db_target: str) -> None:
    config = with_broadcasts(Broadcast("每天 08:00", "台风预警,请收好阳台物品"))
    async with harness(db_target, config, T0) as h:
        async with h.db.transaction() as uow:
            await uow.chats.bind(-1005, GRID_B, title="二网格2群", thread_id=7)
            await uow.chats.bind(-1006, GRID_A)
            await uow.chats.migrate(-1006, -1007)  # became a supergroup
        await h.tick()
        await h.tick(local(2026, 9, 2, 8))
        rows = await h.rows("broadcast")
        assert sorted(r.message.chat_id for r in rows) == sorted(
            [CHAT_A, CHAT_B, CHAT_C, -1005, -1007])
        assert next(r for r in rows if r.message.chat_id == -1005).message.thread_id == 7


async def test_admin_schedule_targets_its_grid_and_stops_when_removed(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        async with h.db.transaction() as uow:
            sid = await uow.schedules.add("每周五 10:00", "给独居老人送饺子", (GRID_A,),
                                          created_by=900)
        await h.tick(local(2026, 9, 4, 10))
        [row] = await h.rows("broadcast")
        assert row.message.chat_id == CHAT_A and "送饺子" in row.message.text
        async with h.db.transaction() as uow:
            await uow.schedules.deactivate(sid)
        await h.tick(local(2026, 9, 11, 10))
        assert len(await h.rows("broadcast")) == 1


async def test_first_start_never_fires_old_occurrences(db_target: str) -> None:
    # The one-off date is long past when the bot first starts: nothing is sent.
    config = with_broadcasts(Broadcast("2026-06-01 09:00", "端午活动"),
                             Broadcast("每天 08:00", "早安"))
    async with harness(db_target, config, T0) as h:
        await h.tick()
        await h.tick(T0 + minutes(30))
        assert await h.rows("broadcast") == []


async def test_restart_across_due_time_sends_once_when_fresh(db_target: str) -> None:
    config = with_broadcasts(Broadcast("每天 08:00", "今天停水 9:00-12:00", (GRID_A,)))
    async with harness(db_target, config, T0) as h:
        old = h.scheduler
        await h.tick(local(2026, 9, 2, 7, 59))
        # The bot is down from 07:59 to 15:00 (7 hours < stale_after = 12 hours).
        h.restart()
        await h.tick(local(2026, 9, 2, 15))
        assert len(await h.rows("broadcast")) == 1
        await h.tick(local(2026, 9, 2, 15, 1))
        # The old process's in-memory state cannot repeat it either.
        await old.tick()
        assert len(await h.rows("broadcast")) == 1


async def test_stale_occurrence_is_skipped_and_the_next_one_still_fires(
        db_target: str) -> None:
    config = with_broadcasts(Broadcast("每天 08:00", "早安", (GRID_A,)))
    async with harness(db_target, config, T0) as h:
        await h.tick()
        # Down from Tuesday 10:00 to Friday 07:00: Wed/Thu 08:00 are stale (23h+ old).
        h.restart()
        report = await h.tick(local(2026, 9, 4, 7))
        assert await h.rows("broadcast") == []
        fired = [f for f in report.fired if f.key.startswith("broadcast")]
        assert [f.sent for f in fired] == [False]
        assert fired[0].due == local(2026, 9, 3, 8)  # the newest missed one is claimed
        await h.tick(local(2026, 9, 4, 7, 30))
        assert await h.rows("broadcast") == []
        await h.tick(local(2026, 9, 4, 8))
        assert len(await h.rows("broadcast")) == 1


async def test_one_off_missed_during_downtime(db_target: str,
                                              db_targets: Callable[[], str]) -> None:
    config = with_broadcasts(Broadcast("2026-09-02 09:00", "疫苗接种通知", (GRID_C,)))
    async with harness(db_target, config, T0) as h:
        await h.tick()
        h.restart()
        await h.tick(local(2026, 9, 2, 20))  # 11 hours late: fresh, sent once
        h.restart()
        await h.tick(local(2026, 9, 3, 9))
        assert len(await h.rows("broadcast")) == 1
    config = with_broadcasts(Broadcast("2026-09-02 09:00", "疫苗接种通知", (GRID_C,)))
    async with harness(db_targets(), config, T0) as h:
        await h.tick()
        await h.tick(local(2026, 9, 2, 21, 1))  # 12 hours and a minute: stale
        assert await h.rows("broadcast") == []


async def test_admin_schedule_created_just_before_downtime_still_fires(
        db_target: str) -> None:
    async with harness(db_target, CONFIG, local(2026, 9, 4, 9, 59)) as h:
        async with h.db.transaction() as uow:
            await uow.schedules.add("每周五 10:00", "给独居老人送饺子", (GRID_A,))
        h.restart()  # never ticked before the restart
        await h.tick(local(2026, 9, 4, 10, 5))
        assert len(await h.rows("broadcast")) == 1


def test_pending_occurrence_picks_newest_of_several_missed() -> None:
    trigger = parse_schedule("cron: */5 * * * *")
    start = local(2026, 9, 1, 10)
    occ = pending_occurrence(trigger, start, start + minutes(31), minutes(720))
    assert occ is not None and occ.send and occ.superseded
    assert occ.due == start + minutes(30)
    assert pending_occurrence(trigger, start, start + minutes(4), minutes(720)) is None


async def test_invalid_admin_schedule_is_logged_not_fatal(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        async with h.db.transaction() as uow:
            await uow.schedules.add("每周八 10:00", "坏的", ())
            await uow.schedules.add("每天 10:30", "好的", ())
        report = await h.tick(T0 + minutes(30))
        assert report.errors == []
        assert len(await h.rows("broadcast")) == 3  # three groups, the good one only
