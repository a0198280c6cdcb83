"""Combined messages in the outbox: replacing rows, delivery, refusal, seeding the limiter."""

from __future__ import annotations

from datetime import timedelta

from storage import open_database
from tests.support.e2e import TUESDAY_MORNING
from tickets.clock import FakeClock
from tickets.outgoing import OutgoingMessage


def line(n: int) -> str:
    return f"👥 #{n:04d} 已为您附议(共 1 人) 老李"


async def test_a_fold_replaces_its_rows_and_they_count_as_sent_with_it(db_target: str) -> None:
    clock = FakeClock(TUESDAY_MORNING)
    db = await open_database(db_target, clock=clock)
    try:
        async with db.transaction() as uow:
            ids = [await uow.outbox.add(OutgoingMessage(chat_id=-1, text=f"r{n}",
                                                        fold_line=line(n)))
                   for n in range(3)]
        async with db.transaction() as uow:
            fold = await uow.outbox.add_fold(
                OutgoingMessage(chat_id=-1, text="combined", kind="fold"),
                [(row_id, None, line(n)) for n, row_id in enumerate(ids) if row_id], "header")
            due = await uow.outbox.due(10)
            assert [r.id for r in due] == [fold]  # the rows wait inside the fold
            assert await uow.outbox.fold_lines(fold) == ["header", *map(line, range(3))]
        clock.advance(seconds=5)
        async with db.transaction() as uow:
            await uow.outbox.mark_sent(fold, 99)
            assert await uow.outbox.fold_delivered(fold, 99, -1) == 3
            rows = [await uow.outbox.get(i) for i in ids if i]
            recent = await uow.outbox.recent_sends(clock.now() - timedelta(minutes=1))
        assert all(r is not None and r.status == "sent" and r.telegram_message_id == 99
                   for r in rows)
        assert recent == [(-1, clock.now())]  # one request, not four
    finally:
        await db.close()


async def test_a_refused_fold_gives_its_rows_back_one_by_one(db_target: str) -> None:
    clock = FakeClock(TUESDAY_MORNING)
    db = await open_database(db_target, clock=clock)
    try:
        async with db.transaction() as uow:
            first = await uow.outbox.add(OutgoingMessage(chat_id=-1, text="a", fold_line=line(1)))
            second = await uow.outbox.add(OutgoingMessage(chat_id=-1, text="b",
                                                          fold_line=line(2)))
            assert first and second
            fold = await uow.outbox.add_fold(
                OutgoingMessage(chat_id=-1, text="combined", kind="fold"),
                [(first, None, line(1)), (second, None, line(2))], "header")
            await uow.outbox.mark_failed(fold, "400 can't parse entities")
            assert await uow.outbox.unfold(fold) == 2
            due = await uow.outbox.due(10)
        assert [r.id for r in due] == [first, second]
        assert all(r.message.fold_line is None for r in due)  # never folded again
    finally:
        await db.close()


async def test_rows_on_the_wire_at_a_crash_count_as_recent_sends(db_target: str) -> None:
    clock = FakeClock(TUESDAY_MORNING)
    db = await open_database(db_target, clock=clock)
    try:
        async with db.transaction() as uow:
            row = await uow.outbox.add(OutgoingMessage(chat_id=-1, text="card"))
            old = await uow.outbox.add(OutgoingMessage(chat_id=-2, text="old"))
            assert row and old
            await uow.outbox.mark_sent(old, 5, now=clock.now() - timedelta(minutes=3))
            await uow.outbox.mark_in_flight(row)
            recent = await uow.outbox.recent_sends(clock.now() - timedelta(minutes=2))
            assert recent == [(-1, clock.now())]
            assert await uow.outbox.recover_in_flight() == 1
            [again] = await uow.outbox.due(10)
        assert again.suspect_since == clock.now()  # its resend looks for a stale copy
    finally:
        await db.close()


async def test_a_card_update_in_a_fold_stays_pending_to_edit_its_card(db_target: str) -> None:
    clock = FakeClock(TUESDAY_MORNING)
    db = await open_database(db_target, clock=clock)
    try:
        async with db.transaction() as uow:
            ack = await uow.outbox.add(OutgoingMessage(chat_id=-1, text="a", fold_line=line(1)))
            edit = await uow.outbox.add(OutgoingMessage(
                chat_id=-1, text="card", kind="card", fold_line="🆕#0007",
                status_line="🔄 #0007 → 已接单"))
            assert ack and edit
            fold = await uow.outbox.add_fold(
                OutgoingMessage(chat_id=-1, text="combined", kind="fold"),
                [(ack, None, line(1)), (edit, None, "🔄 #0007 → 已接单")], "header",
                status_rows=[edit])
            due = await uow.outbox.due(10)
            assert sorted(r.id for r in due) == [edit, fold]  # the edit still waits
            row = await uow.outbox.get(edit)
            assert row is not None and row.status_folded_into == fold
            assert row.message.status_line == "🔄 #0007 → 已接单"
            await uow.outbox.mark_sent(fold, 99)
            assert await uow.outbox.fold_delivered(fold, 99, -1) == 1  # the ack only
            row = await uow.outbox.get(edit)
            assert row is not None and row.status == "pending"
            # A refused fold lets the update be announced again.
            other = await uow.outbox.add_fold(
                OutgoingMessage(chat_id=-1, text="combined 2", kind="fold"),
                [(edit, None, "🔄 #0007 → 已接单")], "header", status_rows=[edit])
            await uow.outbox.mark_failed(other, "400")
            await uow.outbox.unfold(other)
            row = await uow.outbox.get(edit)
        assert row is not None and row.status == "pending" and row.status_folded_into is None
    finally:
        await db.close()
