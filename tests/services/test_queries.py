"""Read API and retention on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

import services as q
from services import TicketService, purge_personal_data
from tests.support.tickets import (
    CHAT_A,
    CHAT_B,
    CONFIG,
    T0,
    person_actor,
    report,
    resident,
)
from tickets.clock import FakeClock
from tickets.errors import TicketNotFound
from tickets.model import TicketState

WANG, CHEN = person_actor("王芳"), person_actor("陈静")


async def make(svc: TicketService, msg: int, reporter: int, building: str, *,
               chat: int = CHAT_A, compound: str | None = "阳光花园", urgency: str = "normal",
               text: str = "漏水 联系13812345678"):
    r = await svc.report_received(
        source_chat_id=chat, source_message_id=msg, reporter_id=reporter,
        reporter_name="张阿姨", report=report(text, urgency=urgency, compound=compound,
                                           building=building))
    return r.ticket


async def test_open_tickets_by_assignee_grid_and_reporter(svc: TicketService,
                                                          clock: FakeClock) -> None:
    a = await make(svc, 1, 5001, "1")
    clock.advance(minutes=5)
    b = await make(svc, 2, 5002, "2")
    clock.advance(minutes=5)
    c = await make(svc, 3, 5001, "3", chat=CHAT_B, compound="幸福家园")
    await svc.resolve(b.id or 0, WANG)
    mine = await q.my_open_tickets(svc.db, "王芳")
    assert [t.id for t in mine] == [a.id]
    assert [t.id for t in await q.grid_open_tickets(svc.db, "一网格")] == [a.id]
    assert [t.id for t in await q.grid_open_tickets(svc.db, "二网格")] == [c.id]
    assert [t.id for t in await q.tickets_of_reporter(svc.db, 5001)] == [c.id, a.id]
    assert (await q.ticket_by_number(svc.db, a.number or "")).id == a.id
    assert (await q.ticket_by_id(svc.db, a.id or 0)).number == a.number
    with pytest.raises(TicketNotFound):
        await q.ticket_by_number(svc.db, "2609-9999")


async def test_overdue_lists_missed_accept_and_resolve(svc: TicketService,
                                                       clock: FakeClock) -> None:
    emergency = await make(svc, 1, 5001, "1", urgency="emergency")
    normal = await make(svc, 2, 5002, "2")
    clock.advance(minutes=16)
    over = await q.overdue_tickets(svc.db, clock)
    assert [(o.ticket.id, o.missed) for o in over] == [(emergency.id, "accept")]
    await svc.accept(emergency.id or 0, WANG)
    clock.advance(days=6)
    over = await q.overdue_tickets(svc.db, clock)
    assert [(o.ticket.id, o.missed) for o in over] == [
        (emergency.id, "resolve"), (normal.id, "accept"), (normal.id, "resolve")]
    assert over[0].due == emergency.resolve_due


async def test_followup_and_close_unrated(svc: TicketService, clock: FakeClock) -> None:
    t = await make(svc, 1, 5001, "1")
    await svc.resolve(t.id or 0, WANG)
    assert await q.tickets_needing_followup(svc.db, CONFIG, clock) == []
    clock.advance(days=1, seconds=1)
    assert [x.id for x in await q.tickets_needing_followup(svc.db, CONFIG, clock)] == [t.id]
    assert await q.tickets_to_close_unrated(svc.db, CONFIG, clock) == []
    clock.advance(days=2)
    (due,) = await q.tickets_to_close_unrated(svc.db, CONFIG, clock)
    closed = await svc.close_unrated(due.id or 0)
    assert closed.state is TicketState.CLOSED and closed.rating is None
    assert await q.tickets_needing_followup(svc.db, CONFIG, clock) == []


async def test_digest_counts(svc: TicketService, clock: FakeClock) -> None:
    a = await make(svc, 1, 5001, "1")
    b = await make(svc, 2, 5002, "2")
    await make(svc, 3, 5003, "3", chat=CHAT_B, compound="幸福家园")
    clock.advance(hours=2)
    await svc.resolve(a.id or 0, WANG)
    await svc.rate(a.id or 0, resident(5001), 1)
    clock.advance(days=10)
    await svc.resolve(b.id or 0, WANG)  # late
    await svc.rate(b.id or 0, resident(5002), 2)
    d = await q.digest(svc.db, T0, T0 + timedelta(days=30))
    assert (d.total.new, d.total.resolved, d.total.resolved_on_time) == (3, 2, 1)
    assert d.total.on_time_rate == 0.5 and d.total.average_rating == 1.5
    assert d.by_grid["一网格"].new == 2 and d.by_grid["二网格"].new == 1
    assert d.by_category["water_leak"].ratings == 2
    assert (d.total.satisfied, d.total.basically_satisfied, d.total.dissatisfied,
            d.total.unresolved, d.total.satisfaction_rate) == (1, 1, 0, 0, 1.0)
    empty = await q.digest(svc.db, T0 - timedelta(days=30), T0)
    assert empty.total.new == 0 and empty.total.on_time_rate is None


async def test_timeline_and_supporters(svc: TicketService) -> None:
    t = await make(svc, 1, 5001, "1")
    await svc.report_received(source_chat_id=CHAT_A, source_message_id=2, reporter_id=5002,
                              reporter_name="李大爷", report=report(building="1"))
    assert [s.user_name for s in await q.supporters_of(svc.db, t.id or 0)] == ["李大爷"]
    assert [e.action for e in await q.timeline(svc.db, t.id or 0)] == ["create", "support"]


async def test_retention_purges_personal_fields_of_old_finished_tickets(
    svc: TicketService, clock: FakeClock
) -> None:
    old = await make(svc, 1, 5001, "1", text="8号楼漏水 电话13812345678 张三")
    await svc.report_received(source_chat_id=CHAT_A, source_message_id=2, reporter_id=5002,
                              reporter_name="李大爷", report=report(building="1"))
    fresh = await make(svc, 3, 5003, "3")
    await svc.cancel(old.id or 0, resident(5001))
    clock.advance(days=400)
    await svc.cancel(fresh.id or 0, resident(5003))
    assert await purge_personal_data(svc.db, CONFIG, clock) == 1
    assert await purge_personal_data(svc.db, CONFIG, clock) == 0  # once only
    purged = await q.ticket_by_id(svc.db, old.id or 0)
    assert purged.purged and "13812345678" not in purged.text and "张三" not in purged.text
    assert purged.reporter_name == "张＊" and purged.parse_json == "{}"
    assert purged.category == "water_leak" and purged.building == "1"  # statistics stay
    (sup,) = await q.supporters_of(svc.db, old.id or 0)
    assert sup.user_name == "李＊" and sup.text == ""
    kept = await q.ticket_by_id(svc.db, fresh.id or 0)
    assert not kept.purged and kept.reporter_name == "张阿姨"


async def test_digest_counts_each_rating_for_the_satisfaction_rate(
    svc: TicketService, clock: FakeClock
) -> None:
    """满意 + 基本满意 over all rated, as 12345 bulletins report it; 不满意/没解决 counted."""
    scores = (1, 2, 3, 4, 1)
    for n, score in enumerate(scores, start=1):
        t = await make(svc, n, 5000 + n, str(n))
        await svc.resolve(t.id or 0, WANG)
        await svc.rate(t.id or 0, resident(5000 + n), score)
    d = await q.digest(svc.db, T0, T0 + timedelta(days=1))
    c = d.total
    assert (c.ratings, c.satisfied, c.basically_satisfied, c.dissatisfied, c.unresolved) == \
        (5, 2, 1, 1, 1)
    assert c.satisfaction_rate == 3 / 5
    from ui import texts
    from ui.reminders import digest_summary

    assert texts.satisfaction_text(c) == "满意率 60%(评价 5 件,不满意 1 件,没解决 1 件)"
    assert "满意率 60%(评价 5 件,不满意 1 件,没解决 1 件)" in texts.stats_line("全社区", c)
    from zoneinfo import ZoneInfo

    summary = digest_summary("一网格", c, 0, T0, T0 + timedelta(days=7), ZoneInfo(CONFIG.timezone))
    assert "居民评价: 满意率 60%(评价 5 件" in summary and "2.2" not in summary
