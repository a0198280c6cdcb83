"""The daily retention job, through the scheduler's tick, on a real SQLite database with
a FakeClock: old finished tickets lose their personal fields, recent and open ones keep
them, handled raw updates leave the inbox after a week, and it runs once per local day
even across restarts."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import timedelta

import pytest

import scheduler.retention as retention
from scheduler.retention import INBOX_KEEP, retention_key
from tests.support.backends import rows
from tests.support.scheduler import Harness, harness, local
from tests.support.tickets import CONFIG, resident
from tickets.model import Ticket

WINDOW = 30  # days; not the default 365, so the setting is seen to be honoured
CFG = replace(CONFIG, retention_days=WINDOW)
START = local(2026, 9, 1, 10)  # Tuesday 10:00 in Shanghai
PHONE = "13812345678"


async def closed_ticket(h: Harness, building: str, text: str, *, reporter: int = 5001,
                        room: str | None = None) -> Ticket:
    """A ticket filed and withdrawn by its reporter at the clock's current time."""
    ticket = await h.new_ticket(reporter=reporter, text=text, building=building, room=room)
    return await h.services.tickets.cancel(ticket.id or 0, resident(reporter))


async def inbox_ids(h: Harness) -> list[int]:
    return [r[0] for r in await rows(h.db, "SELECT update_id FROM inbox ORDER BY update_id")]


async def test_an_old_closed_ticket_loses_its_personal_fields_a_recent_one_keeps_them(
    db_target: str,
) -> None:
    async with harness(db_target, CFG, START) as h:
        old = await closed_ticket(h, "8", f"8号楼3单元601室漏水 电话{PHONE} 张三", room="601")
        still_open = await h.new_ticket(reporter=5002, text="9号楼楼顶漏水", building="9")
        h.clock.advance(days=20)
        recent = await closed_ticket(h, "10", f"10号楼漏水 电话{PHONE}", reporter=5003)

        report_ = await h.tick(START + timedelta(days=WINDOW + 1))

        assert report_.errors == []
        assert report_.retention.ran and report_.retention.tickets_purged == 1
        purged = await h.ticket(old.id or 0)
        assert purged.purged
        assert purged.reporter_name == "张＊"
        assert PHONE not in purged.text and "张三" not in purged.text and "601" not in purged.text
        assert purged.room is None and purged.parse_json == "{}"
        # What the statistics need stays.
        assert (purged.category, purged.building, purged.state) == ("water_leak", "8",
                                                                    "cancelled")
        kept = await h.ticket(recent.id or 0)
        assert not kept.purged and kept.reporter_name == "张阿姨" and PHONE in kept.text
        opened = await h.ticket(still_open.id or 0)  # older than the window, but not finished
        assert not opened.purged and opened.text == "9号楼楼顶漏水"


async def test_it_runs_once_per_local_day_even_across_restarts(db_target: str) -> None:
    async with harness(db_target, CFG, START) as h:
        await closed_ticket(h, "8", "8号楼漏水")
        h.at(START + timedelta(days=1, hours=2))  # Wed 12:00
        second = await closed_ticket(h, "10", "10号楼漏水", reporter=5002)

        day = START + timedelta(days=WINDOW + 1)  # 10:00: the second is 2 hours too young
        first_run = await h.tick(day)
        assert first_run.retention.ran and first_run.retention.tickets_purged == 1

        later = await h.tick(day + timedelta(hours=5))  # now the second is old enough...
        assert not later.retention.ran  # ...but today's run is done
        assert not (await h.ticket(second.id or 0)).purged

        h.restart()  # a new scheduler: nothing in memory, the database remembers
        after_restart = await h.tick(day + timedelta(hours=6))
        assert not after_restart.retention.ran
        assert not (await h.ticket(second.id or 0)).purged

        next_day = await h.tick(local(2026, 10, 3, 0, 1))  # one minute past local midnight
        assert next_day.retention.ran and next_day.retention.tickets_purged == 1
        assert (await h.ticket(second.id or 0)).purged
        async with h.db.read() as r:
            assert await r.job_runs.last_due(retention_key(day.date())) is not None
            assert await r.job_runs.last_due("retention:2026-10-03") is not None


async def test_handled_updates_leave_the_inbox_after_a_week(db_target: str) -> None:
    async with harness(db_target, CFG, START) as h:
        payload = json.dumps({"message": {"from": {"first_name": "张阿姨"}, "text": f"电话{PHONE}"}})
        async with h.db.transaction() as uow:
            await uow.inbox.add_batch([(i, payload) for i in (1, 2, 3)])
            await uow.inbox.mark_processed(1)
            await uow.inbox.mark_processed(2)  # 3 is never handled (a poison message)
        h.clock.advance(days=6)
        async with h.db.transaction() as uow:
            await uow.inbox.add_batch([(i, payload) for i in (4, 5)])
            await uow.inbox.mark_processed(4)
            await uow.inbox.mark_processed(5)

        result = await h.tick(START + INBOX_KEEP + timedelta(hours=1))

        assert result.retention.updates_pruned == 2
        # The unhandled one stays for an operator; the recent ones stay for redeliveries.
        assert await inbox_ids(h) == [3, 4, 5]


async def test_the_newest_update_stays_so_polling_resumes_after_it(db_target: str) -> None:
    async with harness(db_target, CFG, START) as h:
        async with h.db.transaction() as uow:
            await uow.inbox.add_batch([(7, "{}"), (8, "{}")])
            await uow.inbox.mark_processed(7)
            await uow.inbox.mark_processed(8)
        await h.tick(START + timedelta(days=30))
        assert await inbox_ids(h) == [8]
        async with h.db.read() as r:
            assert await r.inbox.max_update_id() == 8


async def test_a_failed_run_is_retried_at_the_next_tick(
    db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with harness(db_target, CFG, START) as h:
        old = await closed_ticket(h, "8", f"8号楼漏水 电话{PHONE}")
        real = retention.purge_personal_data

        async def broken(*args: object, **kwargs: object) -> int:
            raise RuntimeError("disk I/O error")

        monkeypatch.setattr(retention, "purge_personal_data", broken)
        when = START + timedelta(days=WINDOW + 1)
        failed = await h.tick(when)
        assert any(e.startswith("retention:") for e in failed.errors)
        assert not failed.retention.ran

        monkeypatch.setattr(retention, "purge_personal_data", real)
        retried = await h.tick(when + timedelta(minutes=1))
        assert retried.errors == [] and retried.retention.ran
        assert (await h.ticket(old.id or 0)).purged


async def test_the_run_is_logged_with_its_counts(
    db_target: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with harness(db_target, CFG, START) as h:
        await closed_ticket(h, "8", "8号楼漏水")
        with caplog.at_level(logging.INFO, logger="gridbot.scheduler"):
            await h.tick(START + timedelta(days=WINDOW + 1))
        [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retention")]
        assert "purged from 1 ticket(s)" in line and f"more than {WINDOW} days" in line

