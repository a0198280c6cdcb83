"""Use cases on existing tickets, on a real SQLite file: the closed loop, the accept
race, refusals, reject/merge/split, escalation, rating, reopening, timeline."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from services import TicketService, timeline
from storage import Database, open_database
from tests.support.tickets import (
    CHAT_A,
    CONFIG,
    T0,
    RecordingPresenter,
    person_actor,
    report,
    resident,
)
from tickets.clock import FakeClock
from tickets.errors import NotPermitted, RefusalCode, TicketNotFound, TransitionRefused
from tickets.model import Ticket, TicketState

S = TicketState
WANG, LI, CHEN = person_actor("王芳"), person_actor("李强"), person_actor("陈静")
BOSS = person_actor("周书记")
REPORTER = resident(5001)


async def new_ticket(svc: TicketService, msg: int = 10, **kw: object) -> Ticket:
    result = await svc.report_received(source_chat_id=CHAT_A, source_message_id=msg,
                                       reporter_id=REPORTER.user_id or 0,
                                       reporter_name="张阿姨", report=report(**kw))  # type: ignore[arg-type]
    return result.ticket


async def test_two_workers_accepting_at_once_exactly_one_wins(svc: TicketService) -> None:
    t = await new_ticket(svc)
    results = await asyncio.gather(svc.accept(t.id or 0, WANG), svc.accept(t.id or 0, LI),
                                   return_exceptions=True)
    winners = [r for r in results if isinstance(r, Ticket)]
    losers = [r for r in results if isinstance(r, TransitionRefused)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code is RefusalCode.ALREADY_ACCEPTED
    events = await timeline(svc.db, t.id or 0)
    assert [e.action for e in events] == ["create", "accept"]


async def test_race_across_two_database_handles(tmp_path: Path, clock: FakeClock) -> None:
    """Two processes' worth of connections on one file: still exactly one winner."""
    path = tmp_path / "shared.db"
    db1 = await open_database(path, clock=clock)
    db2 = await open_database(path, clock=clock)
    try:
        s1 = TicketService(db1, CONFIG, clock, RecordingPresenter())
        s2 = TicketService(db2, CONFIG, clock, RecordingPresenter())
        t = await new_ticket(s1)
        results = await asyncio.gather(s1.accept(t.id or 0, WANG), s2.accept(t.id or 0, LI),
                                       return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["Ticket", "TransitionRefused"]
    finally:
        await db1.close()
        await db2.close()


async def test_full_closed_loop(svc: TicketService, clock: FakeClock, db: Database,
                                presenter: RecordingPresenter) -> None:
    t = await new_ticket(svc)
    clock.advance(minutes=20)
    t = await svc.accept(t.number or "", WANG)
    assert t.state is S.ACCEPTED and t.accepted_at == clock.now()
    clock.advance(hours=1)
    t = await svc.progress(t.id or 0, WANG, "已联系物业")
    await svc.attach_photo(t.id or 0, WANG, "photo-before")
    await svc.attach_photo(t.id or 0, WANG, "photo-before")  # same file: stored once
    clock.advance(hours=3)
    t = await svc.resolve(t.id or 0, WANG, "屋顶已补")
    assert t.state is S.RESOLVED
    t = await svc.rate(t.id or 0, REPORTER, 1, "谢谢")
    assert t.state is S.CLOSED and t.rating == 1 and t.closed_at == clock.now()
    events = await timeline(db, t.id or 0)
    assert [e.action for e in events] == [
        "create", "accept", "progress", "photo", "resolve", "rate", "close"]
    assert [(e.from_state, e.to_state) for e in events][1:3] == [
        ("assigned", "accepted"), ("accepted", "in_progress")]
    assert events[2].note == "已联系物业" and events[1].actor_key == "王芳"
    async with db.read() as r:
        assert await r.tickets.photos(t.id or 0) == ["photo-before"]
        assert await r.ratings.for_ticket(t.id or 0) == [(1, "谢谢", clock.now())]
    assert presenter.actions[-2:] == ["rate", "close"]


async def test_refusals_carry_codes_and_change_nothing(svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc)
    with pytest.raises(TransitionRefused) as info:
        await svc.accept(t.id or 0, REPORTER)
    assert info.value.code is RefusalCode.RESIDENT_CANNOT_ACCEPT
    with pytest.raises(TransitionRefused) as info:
        await svc.accept(t.id or 0, CHEN)
    assert info.value.code is RefusalCode.NOT_YOUR_GRID
    await svc.accept(t.id or 0, WANG)
    with pytest.raises(TransitionRefused) as info:
        await svc.resolve(t.id or 0, LI)
    assert info.value.code is RefusalCode.NOT_ASSIGNEE
    with pytest.raises(TicketNotFound):
        await svc.accept(12345, WANG)
    with pytest.raises(TicketNotFound):
        await svc.accept("2609-9999", WANG)
    assert [e.action for e in await timeline(db, t.id or 0)] == ["create", "accept"]


async def test_closed_ticket_reopened_only_by_reporter_in_window_or_supervisor(
    svc: TicketService, clock: FakeClock
) -> None:
    t = await new_ticket(svc)
    await svc.resolve(t.id or 0, WANG)
    await svc.rate(t.id or 0, REPORTER, 2)
    with pytest.raises(TransitionRefused) as info:
        await svc.reopen(t.id or 0, WANG)
    assert info.value.code is RefusalCode.NOT_REPORTER
    clock.advance(days=3)
    t = await svc.reopen(t.id or 0, REPORTER, "还是漏")
    assert t.state is S.ASSIGNED and t.reopen_count == 1
    assert t.accept_due is not None and t.accept_due > clock.now()
    await svc.resolve(t.id or 0, WANG)
    await svc.close_unrated(t.id or 0)
    clock.advance(days=30)
    with pytest.raises(TransitionRefused) as info:
        await svc.reopen(t.id or 0, REPORTER)
    assert info.value.code is RefusalCode.REOPEN_WINDOW_EXPIRED
    t = await svc.reopen(t.id or 0, BOSS, "回访发现未修好")
    assert t.state is S.ASSIGNED and t.reopen_count == 2


async def test_low_rating_reopens(svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc)
    await svc.resolve(t.id or 0, WANG)
    t = await svc.rate(t.id or 0, REPORTER, 4, "根本没人来")
    assert t.state is S.ASSIGNED and t.rating == 4
    actions = [e.action for e in await timeline(db, t.id or 0)]
    assert actions[-2:] == ["rate", "reopen"]


async def test_reject_records_a_correction(svc: TicketService, db: Database) -> None:
    t = await new_ticket(svc, text="谢谢王姐昨天帮忙")
    t = await svc.reject(t.id or 0, WANG, "只是感谢")
    assert t.state is S.CANCELLED
    async with db.read() as r:
        (c,) = await r.corrections.since(T0)
    assert (c.text, c.predicted_category, c.note, c.by_key) == (
        "谢谢王姐昨天帮忙", "water_leak", "只是感谢", "王芳")


async def test_reporter_cancels_but_others_cannot(svc: TicketService) -> None:
    t = await new_ticket(svc)
    with pytest.raises(TransitionRefused) as info:
        await svc.cancel(t.id or 0, resident(5999))
    assert info.value.code is RefusalCode.NOT_REPORTER
    assert (await svc.cancel(t.id or 0, REPORTER, "已自行解决")).state is S.CANCELLED


async def test_transfer_and_escalate(svc: TicketService, presenter: RecordingPresenter) -> None:
    t = await new_ticket(svc)
    await svc.accept(t.id or 0, WANG)
    t = await svc.transfer(t.id or 0, WANG, to_grid="二网格", note="属于二网格")
    assert (t.grid, t.assignee, t.state) == ("二网格", "陈静", S.ASSIGNED)
    with pytest.raises(NotPermitted) as info:
        await svc.transfer(t.id or 0, CHEN, to_assignee="不存在的人")
    assert info.value.code is RefusalCode.UNKNOWN_TARGET
    t = await svc.escalate(t.id or 0, CHEN, "需要社区协调")
    assert t.escalation_level == 1 and t.escalated_to == ("周书记",) and t.state is S.ASSIGNED
    _, _, ctx = presenter.calls[-1]
    assert ctx.contact("周书记") is not None and ctx.contact("陈静") is not None


async def test_merge_and_split(svc: TicketService, db: Database) -> None:
    master = await new_ticket(svc, msg=1)
    # Different wording and unit: not auto-joined, merged by hand.
    dup = (await svc.report_received(
        source_chat_id=CHAT_A, source_message_id=2, reporter_id=5002, reporter_name="李大爷",
        report=report("8号楼楼顶渗水", unit="4", keywords=("渗水",)))).ticket
    await svc.report_received(source_chat_id=CHAT_A, source_message_id=3, reporter_id=5003,
                              reporter_name="王奶奶",
                              report=report("8号楼4单元渗水", unit="4", keywords=("渗水",)))
    assert dup.id != master.id
    merged = await svc.merge(dup.id or 0, master.id or 0, WANG)
    assert merged.state is S.MERGED and merged.merged_into == master.id
    async with db.read() as r:
        m = await r.tickets.get(master.id or 0)
        sups = [s.user_id for s in await r.supporters.for_ticket(master.id or 0)]
    assert m is not None and m.supporters_count == 2 and sorted(sups) == [5002, 5003]
    split = await svc.split(dup.id or 0, WANG)
    assert split.state is S.ASSIGNED and split.supporters_count == 1
    async with db.read() as r:
        m = await r.tickets.get(master.id or 0)
    assert m is not None and m.supporters_count == 0
    master_actions = [e.action for e in await timeline(db, master.id or 0)]
    assert master_actions == ["create", "merge_in", "split_off"]


async def test_split_supporter_opens_their_own_ticket(svc: TicketService, db: Database) -> None:
    master = await new_ticket(svc, msg=1)
    joined = await svc.report_received(source_chat_id=CHAT_A, source_message_id=2,
                                       reporter_id=5002, reporter_name="李大爷",
                                       report=report("8号楼3单元漏水很大"))
    assert joined.joined_master
    own = await svc.split_supporter(master.id or 0, 5002, WANG)
    assert own.id != master.id and own.reporter_id == 5002 and own.text == "8号楼3单元漏水很大"
    async with db.read() as r:
        m = await r.tickets.get(master.id or 0)
    assert m is not None and m.supporters_count == 0
    with pytest.raises(NotPermitted):
        await svc.split_supporter(master.id or 0, 5002, WANG)


async def test_edit_report_while_new(svc: TicketService) -> None:
    t = await new_ticket(svc)
    t = await svc.edit_report(t.id or 0, REPORTER, report("8号楼3单元302漏水", room="302"))
    assert t.text == "8号楼3单元302漏水" and t.room == "302"
    await svc.accept(t.id or 0, WANG)
    with pytest.raises(TransitionRefused) as info:
        await svc.edit_report(t.id or 0, REPORTER, report("改"))
    assert info.value.code is RefusalCode.WRONG_STATE


async def test_unroutable_report_stays_new_until_assigned(
    db: Database, clock: FakeClock
) -> None:
    from dataclasses import replace

    no_bosses = replace(CONFIG, people=tuple(p for p in CONFIG.people if not p.can_supervise))
    svc = TicketService(db, no_bosses, clock, RecordingPresenter())
    t = (await svc.report_received(
        source_chat_id=-1999, source_message_id=1, reporter_id=5001, reporter_name="x",
        report=report("路灯坏了", "street_light", compound=None, building=None, unit=None,
                      keywords=("路灯",)))).ticket
    assert t.state is S.NEW and t.assignee is None and t.grid is None
    assert t.routing_reason.startswith("nobody")
    with pytest.raises(TransitionRefused) as info:
        await svc.assign(t.id or 0, WANG, "陈静")
    assert info.value.code is RefusalCode.SUPERVISOR_ONLY
    t = await svc.assign(t.id or 0, BOSS, "陈静")
    assert (t.state, t.assignee) == (S.ASSIGNED, "陈静")


async def test_transfer_gives_the_new_owner_a_fresh_acceptance_window(
    svc: TicketService, clock: FakeClock
) -> None:
    """The old accept deadline has passed: the new owner is not overdue on arrival, and
    the resident's resolve deadline stays where it was."""
    ticket = await new_ticket(svc)
    old_accept, old_resolve = ticket.accept_due, ticket.resolve_due
    assert old_accept is not None and old_resolve is not None
    clock.set(old_accept + timedelta(hours=3))
    moved = await svc.transfer(ticket.id or 0, BOSS, to_assignee="李强")
    assert moved.accept_due is not None and moved.accept_due > clock.now()
    assert moved.resolve_due == old_resolve
