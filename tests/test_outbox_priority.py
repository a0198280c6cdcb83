"""Within one chat an emergency goes first; one busy chat cannot fill the send batch."""

from __future__ import annotations

from storage import open_database
from tests.support.e2e import TUESDAY_MORNING
from tickets.clock import FakeClock
from tickets.outgoing import OutgoingMessage


async def test_due_rows_put_emergencies_first_and_one_row_per_chat(db_target: str) -> None:
    clock = FakeClock(TUESDAY_MORNING)
    db = await open_database(db_target, clock=clock)
    try:
        async with db.transaction() as uow:
            await uow.outbox.add_many(
                [OutgoingMessage(chat_id=-1, text=f"normal {i}") for i in range(50)]
                + [OutgoingMessage(chat_id=-1, text="gas!", priority=2),
                   OutgoingMessage(chat_id=-2, text="other group"),
                   OutgoingMessage(chat_id=7, text="worker")])
        async with db.transaction() as uow:
            rows = await uow.outbox.due(10, per_chat=1)
            everything = await uow.outbox.due(100)
            others = await uow.outbox.due(10, per_chat=1, exclude_chats=[-1])
        assert [r.message.text for r in rows] == ["gas!", "other group", "worker"]
        assert everything[0].message.text == "gas!" and len(everything) == 53
        assert [r.message.chat_id for r in others] == [-2, 7]
    finally:
        await db.close()
