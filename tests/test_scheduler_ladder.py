"""The SLA ladder driven by ``GridScheduler.tick()`` with a FakeClock on a real database:
reminder → overdue notice → escalation, exactly once across ticks and restarts; working
hours and the holiday calendar; the emergency alert to the supervisor and the backup."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from community.model import SlaPolicy
from scheduler.ladder import plan
from tests.support.scheduler import harness, local, minutes
from tests.support.tickets import CHAT_A, CONFIG, person_actor
from tickets.sla import WorkCalendar

WANG_ID, BACKUP_ID, BOSS_ID = 101, 103, 900
T0 = local(2026, 9, 1, 10)  # Tuesday 10:00


def keys(rows: list) -> list[str]:
    return [r.message.dedupe_key for r in rows]


async def test_reminder_overdue_escalation_each_once(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket()
        assert t.accept_due == local(2026, 9, 2, 10)  # one working day
        await h.tick()
        assert await h.rows("sla") == []

        # 1. reminder 30 minutes before the accept deadline, privately to the assignee
        await h.tick(local(2026, 9, 2, 9, 29))
        assert await h.rows("sla") == []
        await h.tick(local(2026, 9, 2, 9, 30))
        [remind] = await h.rows("sla")
        msg = remind.message
        assert msg.chat_id == WANG_ID and msg.kind == "sla_remind"
        assert msg.dedupe_key == f"sla:{t.id}:accept:{t.accept_due.isoformat()}:remind@王芳:王芳"
        assert "接单时限快到了" in msg.text and f"#{t.number}" in msg.text
        assert msg.fallback_chat_id == CHAT_A and "/start" in (msg.fallback_text or "")
        assert msg.parse_mode == "HTML" and msg.buttons  # accept buttons included
        wakes = h.dispatcher.wakes
        await h.tick(local(2026, 9, 2, 9, 40))
        assert len(await h.rows("sla")) == 1 and h.dispatcher.wakes == wakes

        # 2. overdue notice at the deadline
        await h.tick(local(2026, 9, 2, 10))
        overdue = [r for r in await h.rows("sla") if r.message.kind == "sla_overdue"]
        assert len(overdue) == 1 and overdue[0].message.chat_id == WANG_ID
        assert "已超过接单时限" in overdue[0].message.text

        # 3. escalation after the 2-hour grace, through the service (督办)
        report = await h.tick(local(2026, 9, 2, 11, 59))
        assert report.ladder.escalated == []
        report = await h.tick(local(2026, 9, 2, 12))
        assert report.ladder.escalated == [t.id]
        after = await h.ticket(t.id or 0)
        assert after.escalation_level == 1 and "周书记" in after.escalated_to
        boss = [r for r in await h.rows() if r.message.chat_id == BOSS_ID
                and "督办提醒" in r.message.text]
        assert len(boss) == 1 and "超过接单时限" in boss[0].message.text
        cards = [r for r in await h.rows("card")]
        assert "已督办" in cards[-1].message.text

        # Repeated ticks and a restart: nothing again.
        before = len(await h.rows())
        await h.tick(local(2026, 9, 2, 12, 5))
        h.restart()
        await h.tick(local(2026, 9, 2, 12, 10))
        await h.tick(local(2026, 9, 2, 14))
        assert len(await h.rows()) == before
        assert (await h.ticket(t.id or 0)).escalation_level == 1


async def test_restart_between_steps_sends_each_step_once(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket()
        await h.tick(local(2026, 9, 2, 9, 45))  # reminder
        h.restart()
        await h.tick(local(2026, 9, 2, 9, 50))
        assert len(await h.rows("sla_remind")) == 1
        h.restart()
        await h.tick(local(2026, 9, 2, 10, 1))  # overdue, by the new scheduler
        h.restart()
        await h.tick(local(2026, 9, 2, 10, 2))
        assert len(await h.rows("sla_overdue")) == 1
        assert (await h.ticket(t.id or 0)).escalation_level == 0


async def test_accepted_ticket_follows_the_resolve_deadline(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket()
        await h.services.tickets.accept(t.id or 0, person_actor("王芳"))
        await h.tick(local(2026, 9, 2, 10, 30))  # past accept_due, but accepted: nothing
        assert await h.rows("sla") == []
        await h.tick(local(2026, 9, 4, 9, 30))
        [row] = await h.rows("sla")
        assert row.message.dedupe_key.startswith(f"sla:{t.id}:resolve:")
        assert "办结时限快到了" in row.message.text


async def test_reopened_ticket_gets_a_new_ladder(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket()
        await h.tick(local(2026, 9, 2, 9, 31))
        wang = person_actor("王芳")
        await h.services.tickets.accept(t.id or 0, wang)
        await h.services.tickets.resolve(t.id or 0, wang, "修好了")
        await h.services.tickets.reopen(t.id or 0, person_actor("周书记"), "没修好")
        reopened = await h.ticket(t.id or 0)
        assert reopened.accept_due != t.accept_due
        await h.tick((reopened.accept_due or T0) - minutes(10))
        reminders = await h.rows("sla_remind")
        assert len(reminders) == 2 and len(set(keys(reminders))) == 2


async def test_normal_reminder_at_3am_waits_for_working_hours(db_target: str) -> None:
    # A 7-hour reminder lead puts the reminder for a 10:00 deadline at 03:00.
    config = replace(CONFIG, sla=replace(SlaPolicy(), remind_before=timedelta(hours=7)))
    async with harness(db_target, config, T0) as h:
        await h.new_ticket()
        await h.tick(local(2026, 9, 2, 3))
        await h.tick(local(2026, 9, 2, 8, 29))
        assert await h.rows("sla") == []
        await h.tick(local(2026, 9, 2, 8, 30))  # opening time
        assert len(await h.rows("sla_remind")) == 1


async def test_emergency_reminder_goes_out_at_night(db_target: str) -> None:
    async with harness(db_target, CONFIG, local(2026, 9, 1, 23)) as h:
        t = await h.new_ticket(urgency="emergency", category="gas", text="煤气味", building="9")
        await h.services.tickets.accept(t.id or 0, person_actor("王芳"))
        accepted = await h.ticket(t.id or 0)
        assert accepted.resolve_due == local(2026, 9, 2, 3)  # four hours, any time
        await h.tick(local(2026, 9, 2, 2, 30))
        [row] = await h.rows("sla")
        assert row.message.kind == "sla_remind" and row.message.chat_id == WANG_ID


async def test_emergency_not_accepted_alerts_supervisor_and_backup_at_once(
        db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket(urgency="emergency", category="gas", text="煤气味", building="9")
        assert t.accept_due == T0 + minutes(15)
        await h.tick(T0 + minutes(5))  # no reminder: the whole window is shorter
        assert await h.rows("sla") == []
        report = await h.tick(T0 + minutes(15))
        assert report.ladder.escalated == [t.id]  # no grace for emergencies
        backup = await h.rows("sla_backup")
        assert [r.message.chat_id for r in backup] == [BACKUP_ID]
        assert "紧急工单无人接单" in backup[0].message.text
        assert "王芳" in backup[0].message.text
        assert [r.message.chat_id for r in await h.rows("sla_overdue")] == [WANG_ID]
        boss = [r for r in await h.rows() if r.message.chat_id == BOSS_ID
                and "督办提醒" in r.message.text]
        assert len(boss) == 1 and "紧急工单未在" in boss[0].message.text
        await h.tick(T0 + minutes(16))
        assert (await h.ticket(t.id or 0)).escalation_level == 1


async def test_deadline_across_national_day_week(db_target: str) -> None:
    # Tuesday 09-29 16:00 + one working day = Wednesday 09-30 16:00; the escalation at
    # 18:00 is after hours and 10-01..10-07 are the holiday, so it waits for 10-08 08:30.
    async with harness(db_target, CONFIG, local(2026, 9, 29, 16)) as h:
        t = await h.new_ticket()
        assert t.accept_due == local(2026, 9, 30, 16)
        await h.tick(local(2026, 9, 30, 15, 30))
        await h.tick(local(2026, 9, 30, 16))
        assert len(await h.rows("sla_remind")) == 1 and len(await h.rows("sla_overdue")) == 1
        for day in (local(2026, 9, 30, 18), local(2026, 10, 1, 10), local(2026, 10, 7, 12),
                    local(2026, 10, 8, 8, 29)):
            report = await h.tick(day)
            assert report.ladder.escalated == [], day
        report = await h.tick(local(2026, 10, 8, 8, 30))
        assert report.ladder.escalated == [t.id]


async def test_holiday_report_due_after_the_holiday(db_target: str) -> None:
    # Reported on National Day itself: the clock starts at 10-08 08:30.
    async with harness(db_target, CONFIG, local(2026, 10, 2, 21)) as h:
        t = await h.new_ticket()
        assert t.accept_due == local(2026, 10, 9, 8, 30)
        calendar = WorkCalendar(CONFIG.timezone, CONFIG.working_hours)
        [remind, overdue, escalate] = plan(t, CONFIG.sla, calendar)
        # 08:00 is before opening and 08:30 is the deadline itself: remind the evening
        # before, half an hour before closing (the first working day after the holiday).
        assert remind.at == local(2026, 10, 8, 17, 0)
        assert overdue.at == local(2026, 10, 9, 8, 30)
        assert escalate.at == local(2026, 10, 9, 10, 30)
        await h.tick(local(2026, 10, 5, 8))
        assert await h.rows("sla") == []
        await h.tick(local(2026, 10, 8, 17))
        assert len(await h.rows("sla_remind")) == 1


async def test_step_missed_during_long_downtime_is_skipped_not_sent(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket()
        await h.services.tickets.accept(t.id or 0, person_actor("王芳"))
        # Down from before the resolve reminder (Fri 09:30) until Saturday noon: the
        # reminder is superseded, the overdue notice (Fri 10:00) is 26 hours old: stale.
        report = await h.tick(local(2026, 9, 5, 12))
        assert await h.rows("sla") == []
        # The escalation (Fri 12:00) is stale too: the digest will list the ticket.
        assert [k.rsplit(":", 1)[1] for k in report.ladder.skipped] == [
            "remind@王芳", "overdue@王芳", "escalate"]
        assert (await h.ticket(t.id or 0)).escalation_level == 0
        h.restart()
        report = await h.tick(local(2026, 9, 5, 12, 1))
        assert report.ladder.skipped == [] and await h.rows("sla") == []


async def test_step_missed_during_short_downtime_is_sent_once(db_target: str) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        await h.new_ticket()
        await h.tick(local(2026, 9, 2, 9))
        h.restart()  # the bot was down from 09:00 to 10:20
        await h.tick(local(2026, 9, 2, 10, 20))
        assert len(await h.rows("sla_overdue")) == 1
        assert await h.rows("sla_remind") == []  # the deadline passed: superseded
        h.restart()
        await h.tick(local(2026, 9, 2, 10, 21))
        assert len(await h.rows("sla_overdue")) == 1


async def test_transfer_gives_a_fresh_window_and_the_new_assignee_is_told(
    db_target: str,
) -> None:
    async with harness(db_target, CONFIG, T0) as h:
        t = await h.new_ticket()
        await h.tick(local(2026, 9, 2, 9, 40))
        await h.services.tickets.transfer(t.id or 0, person_actor("王芳"), to_assignee="李强")
        await h.tick(local(2026, 9, 2, 9, 45))
        # Not overdue on arrival: 李强 has a fresh acceptance window ...
        assert [r.message.chat_id for r in await h.rows("sla_remind")] == [WANG_ID]
        moved = await h.ticket(t.id or 0)
        assert moved.accept_due is not None and moved.accept_due > local(2026, 9, 2, 9, 45)
        # ... and is reminded before it ends, like anyone else.
        await h.tick(moved.accept_due - timedelta(minutes=5))
        assert [r.message.chat_id for r in await h.rows("sla_remind")] == [WANG_ID, 102]
