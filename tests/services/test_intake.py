"""report_received: idempotent, atomic, routed, deduplicated — on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from services import IncomingReport, TicketService, report_received
from storage import Database
from tests.support.tickets import CHAT_A, CHAT_B, CONFIG, GRID_A, T0, RecordingPresenter, report
from tickets.clock import FakeClock
from tickets.model import TicketState


async def outbox_rows(db: Database) -> int:
    async with db.read() as r:
        return sum((await r.outbox.counts()).values())


async def test_new_report_creates_a_routed_ticket_with_deadlines_events_and_outbox(
    svc: TicketService, db: Database, presenter: RecordingPresenter
) -> None:
    result = await svc.report_received(source_chat_id=CHAT_A, source_message_id=10,
                                       reporter_id=5001, reporter_name="张阿姨", report=report())
    t = result.ticket
    assert result.created and not result.joined_master
    assert t.number == "2609-0001" and t.state is TicketState.ASSIGNED
    assert (t.grid, t.assignee) == (GRID_A, "王芳")
    assert t.routing_reason.startswith("grid_worker/location")
    # Tue 10:00 local, 1 working day to accept, 3 to resolve (same time of day).
    assert t.accept_due == T0 + timedelta(days=1)
    assert t.resolve_due == T0 + timedelta(days=3)
    async with db.read() as r:
        events = await r.events.for_ticket(t.id or 0)
        stored = await r.tickets.get_by_number("2609-0001")
        counts = await r.outbox.counts()
    assert [e.action for e in events] == ["create"]
    assert events[0].data["decision"]["assignee"] == "王芳"
    assert stored == t
    assert counts["pending"] == 2  # group card + DM to the assignee
    assert presenter.actions == ["create"]


async def test_same_update_twice_makes_one_ticket_and_no_new_messages(
    svc: TicketService, db: Database
) -> None:
    first = await svc.report_received(source_chat_id=CHAT_A, source_message_id=10,
                                      reporter_id=5001, reporter_name="张阿姨", report=report())
    before = await outbox_rows(db)
    again = await svc.report_received(source_chat_id=CHAT_A, source_message_id=10,
                                      reporter_id=5001, reporter_name="张阿姨", report=report())
    assert not again.created and not again.joined_master
    assert again.ticket.id == first.ticket.id
    assert await outbox_rows(db) == before


async def test_numbers_are_sequential_per_month(svc: TicketService, clock: FakeClock) -> None:
    numbers = []
    for i, when in enumerate([T0, T0 + timedelta(days=1), T0 + timedelta(days=31)]):
        clock.set(when)
        r = await svc.report_received(source_chat_id=CHAT_A, source_message_id=i,
                                      reporter_id=5000 + i, reporter_name="x",
                                      report=report(building=str(20 + i)))
        numbers.append(r.ticket.number)
    assert numbers == ["2609-0001", "2609-0002", "2610-0001"]


async def test_failing_presenter_leaves_no_ticket_and_no_outbox_row(
    db: Database, clock: FakeClock
) -> None:
    presenter = RecordingPresenter(fail_on="create")
    with pytest.raises(RuntimeError):
        await report_received(db, CONFIG, clock, presenter, source_chat_id=CHAT_A,
                              source_message_id=10, reporter_id=5001, reporter_name="x",
                              report=report())
    async with db.read() as r:
        assert await r.tickets.get_by_source(CHAT_A, 10) is None
        assert await r.queries.of_reporter(5001) == []
    assert await outbox_rows(db) == 0
    # The report is not lost: once the presenter works, the same message makes its ticket.
    ok = await report_received(db, CONFIG, clock, RecordingPresenter(), source_chat_id=CHAT_A,
                               source_message_id=10, reporter_id=5001, reporter_name="x",
                               report=report())
    assert ok.created and ok.ticket.number == "2609-0001"  # the failed try used no number


async def test_exception_after_insert_rolls_back_everything(db: Database, clock: FakeClock) -> None:
    with pytest.raises(ZeroDivisionError):
        async with db.transaction() as uow:
            from tickets.outgoing import OutgoingMessage

            await uow.outbox.add(OutgoingMessage(chat_id=1, text="x"))
            await uow.inbox.add_batch([(1, "{}")])
            raise ZeroDivisionError
    assert await outbox_rows(db) == 0
    async with db.read() as r:
        assert await r.inbox.pending() == []


async def test_duplicate_report_joins_as_supporter(
    svc: TicketService, db: Database, presenter: RecordingPresenter
) -> None:
    first = await svc.report_received(source_chat_id=CHAT_A, source_message_id=10,
                                      reporter_id=5001, reporter_name="张阿姨", report=report())
    second = await svc.report_received(source_chat_id=CHAT_A, source_message_id=11,
                                       reporter_id=5002, reporter_name="李大爷",
                                       report=report("8号楼3单元也漏水了"))
    assert not second.created and second.joined_master
    assert second.ticket.id == first.ticket.id and second.ticket.supporters_count == 1
    # Same user again (another message): one vote per person, nothing new written.
    before = await outbox_rows(db)
    third = await svc.report_received(source_chat_id=CHAT_A, source_message_id=12,
                                      reporter_id=5002, reporter_name="李大爷", report=report())
    assert third.joined_master and third.ticket.supporters_count == 1
    assert await outbox_rows(db) == before
    # The supporter's own message redelivered: still one supporter.
    again = await svc.report_received(source_chat_id=CHAT_A, source_message_id=11,
                                      reporter_id=5002, reporter_name="李大爷", report=report())
    assert again.ticket.supporters_count == 1
    async with db.read() as r:
        sups = await r.supporters.for_ticket(first.ticket.id or 0)
        events = await r.events.for_ticket(first.ticket.id or 0)
    assert [s.user_id for s in sups] == [5002]
    assert [e.action for e in events] == ["create", "support"]
    assert presenter.actions == ["create", "support"]


async def test_burst_of_thirty_location_less_reports_makes_one_ticket(
    svc: TicketService, clock: FakeClock, db: Database
) -> None:
    burst = report("停水了", "water_outage", compound=None, building=None, unit=None,
                   keywords=("停水",))
    results = []
    for i in range(30):
        results.append(await svc.report_received(
            source_chat_id=CHAT_B, source_message_id=100 + i, reporter_id=7000 + i,
            reporter_name=f"居民{i}", report=burst))
        clock.advance(seconds=10)  # 30 reports in five minutes
    assert sum(r.created for r in results) == 1
    master = results[-1].ticket
    assert master.supporters_count == 29
    # The same words in another group are another ticket.
    other = await svc.report_received(source_chat_id=CHAT_A, source_message_id=1,
                                      reporter_id=8000, reporter_name="x", report=burst)
    assert other.created


async def test_group_commit_of_a_burst(svc: TicketService, db: Database) -> None:
    burst = report("停电了", "power_outage", compound=None, building=None, unit=None,
                   keywords=("停电",))
    items = [IncomingReport(CHAT_A, 200 + i, 9000 + i, f"居民{i}", burst) for i in range(20)]
    results = await svc.report_received_many(items)
    assert sum(r.created for r in results) == 1
    assert results[-1].ticket.supporters_count == 19
    # Redelivering the whole batch changes nothing.
    again = await svc.report_received_many(items)
    assert not any(r.created or r.joined_master for r in again[:1])
    assert again[-1].ticket.supporters_count == 19


async def test_concurrent_intake_of_the_same_message_makes_one_ticket(svc: TicketService) -> None:
    results = await asyncio.gather(*[
        svc.report_received(source_chat_id=CHAT_A, source_message_id=10, reporter_id=5001,
                            reporter_name="x", report=report()) for _ in range(5)])
    assert sum(r.created for r in results) == 1
    assert len({r.ticket.id for r in results}) == 1
